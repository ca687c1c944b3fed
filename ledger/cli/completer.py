"""Completion: keywords, functions, table names, field paths and meta-commands.

Context is read from the text with a light touch (no parse): after FROM, INTO,
UPDATE, TABLE, JOIN or ``history(`` come table names; after ``alias.`` come the
fields sampled from the aliased table (``_ql_committed_T`` and ``history(T)`` have
the committed-view shape); elsewhere keywords, functions, tables and the top-level
fields of the tables the statement names.  Table and field lists come from a
``Metadata`` callable that a background refresher keeps current.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from ledger.cli import meta, scanner
from ledger.cli.keywords import FUNCTIONS, KEYWORDS, SHELL_KEYWORDS
from ledger.cli.metadata import Metadata
from ledger.cli.output import FORMATS

COMMITTED_PREFIX = "_ql_committed_"
COMMITTED_FIELDS = (
    "blockAddress", "blockAddress.strandId", "blockAddress.sequenceNo", "hash", "data",
    "metadata", "metadata.id", "metadata.version", "metadata.txTime", "metadata.txId",
)  # fmt: skip
_TABLE_AFTER = {"FROM", "INTO", "UPDATE", "TABLE", "JOIN", "ON"}
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_WORD_BEFORE_CURSOR = re.compile(r'[A-Za-z0-9_$."]*\Z')
_SOURCE = re.compile(
    r'(?:\bFROM|\bUPDATE|\bJOIN|\bINTO|,)\s+(history\s*\(\s*)?("?[A-Za-z_$][\w$]*"?)(?:\s*\))?'
    r"(?:\s+(?:AS\s+)?([A-Za-z_$][\w$]*))?",
    re.IGNORECASE,
)
_NOT_ALIASES = {k.upper() for k in (*KEYWORDS, *SHELL_KEYWORDS)}


@dataclass(frozen=True)
class Source:
    """A table a statement reads or writes, how it is named, and in which view."""

    table: str
    alias: str | None
    committed: bool


def sources(text: str) -> list[Source]:
    """The tables named in FROM/UPDATE/JOIN/INTO clauses of ``text`` (strings ignored)."""
    found = []
    for match in _SOURCE.finditer(_blank_literals(text)):
        history, name, alias = match.groups()
        name = name.strip('"')
        committed = bool(history) or name.startswith(COMMITTED_PREFIX)
        if name.startswith(COMMITTED_PREFIX):
            name = name[len(COMMITTED_PREFIX) :]
        if alias and alias.upper() in _NOT_ALIASES:
            alias = None
        found.append(Source(name, alias, committed))
    return found


def _blank_literals(text: str) -> str:
    """``text`` with strings, Ion literals and comments replaced by spaces."""
    kinds = (scanner.STRING, scanner.ION, scanner.COMMENT)
    return "".join(" " * len(t.text) if t.kind in kinds else t.text for t in scanner.tokens(text))


def quote(name: str) -> str:
    return name if _IDENT.match(name) else '"' + name.replace('"', '""') + '"'


class PartiQLCompleter(Completer):
    def __init__(self, metadata: Callable[[], Metadata]) -> None:
        self.metadata = metadata
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        before = document.text_before_cursor
        if before.lstrip().startswith("\\"):
            yield from self._meta(before.lstrip(), complete_event)
            return
        word = _WORD_BEFORE_CURSOR.search(before)
        typed = word.group() if word else ""
        if "." in typed:
            yield from self._fields(document.text, typed)
            return
        previous = _previous(before[: len(before) - len(typed)])
        if previous in _TABLE_AFTER or previous == "HISTORY(":
            yield from self._tables(typed, with_sources=previous in ("FROM", "JOIN"))
            return
        yield from self._anything(document.text, typed)

    # -- contexts ------------------------------------------------------------------------
    def _tables(self, typed: str, *, with_sources: bool) -> Iterator[Completion]:
        names = self.metadata().table_names()
        yield from _matching(typed, [quote(n) for n in names], "table")
        if with_sources:
            committed = [COMMITTED_PREFIX + n for n in names]
            yield from _matching(typed, ["history", "information_schema", *committed], "source")

    def _fields(self, text: str, typed: str) -> Iterator[Completion]:
        base, _, rest = typed.partition(".")
        base = base.strip('"')
        if base.lower() == "information_schema":
            yield from _matching(rest, ["user_tables"], "catalog")
            return
        source = self._resolve(text, base)
        if source is None:
            return
        yield from _path_step(rest, self._field_paths(source), "field")

    def _anything(self, text: str, typed: str) -> Iterator[Completion]:
        named = sources(text)
        yield from _matching(typed, [s.alias for s in named if s.alias], "alias")
        fields = [p for s in named for p in self._field_paths(s) if "." not in p]
        yield from _matching(typed, [quote(f) for f in fields], "field")
        yield from self._tables(typed, with_sources=False)
        keyword_case = str.lower if typed[:1].islower() else str.upper
        yield from _matching(
            typed, [keyword_case(k) for k in (*KEYWORDS, *SHELL_KEYWORDS)], "keyword"
        )
        yield from _matching(typed, [keyword_case(f) for f in FUNCTIONS], "function")

    def _meta(self, text: str, event: CompleteEvent) -> Iterator[Completion]:
        name, space, args = text[1:].partition(" ")
        if not space:
            names = sorted({c.name for c in meta.commands()})
            yield from _matching(text, ["\\" + n for n in names], "command")
            return
        entry = meta.lookup(name)
        if entry is None or (entry.argument == meta.TABLE and " " in args.lstrip()):
            return
        if entry.argument == meta.TABLE:
            yield from _matching(
                args.lstrip(), [quote(n) for n in self.metadata().table_names()], "table"
            )
        elif entry.argument == meta.FORMAT:
            yield from _matching(args.lstrip(), list(FORMATS), "format")
        elif entry.argument == meta.FILE:
            yield from self._paths.get_completions(Document(args.lstrip()), event)

    # -- helpers -------------------------------------------------------------------------
    def _resolve(self, text: str, base: str) -> Source | None:
        named = sources(text)
        for source in named:
            if source.alias == base:
                return source
        if base.startswith(COMMITTED_PREFIX):
            return Source(base[len(COMMITTED_PREFIX) :], None, True)
        if base in self.metadata().tables:
            return Source(base, None, False)
        return None

    def _field_paths(self, source: Source) -> list[str]:
        fields = list(self.metadata().fields(source.table))
        if not source.committed:
            return fields
        return [*COMMITTED_FIELDS, *("data." + f for f in fields)]


def _previous(text: str) -> str:
    """The last word before the one being typed, upper-cased (``HISTORY(`` for ``history(``)."""
    tokens = [t for t in scanner.significant(text)]
    if not tokens:
        return ""
    last = tokens[-1]
    if last.text == "(" and len(tokens) > 1 and tokens[-2].text.lower() == "history":
        return "HISTORY("
    return last.text.upper() if last.kind == scanner.WORD else last.text


def _matching(typed: str, candidates: Iterable[str], kind: str) -> Iterator[Completion]:
    """Candidates starting with ``typed`` (any case), each once, replacing the typed word."""
    lowered = typed.lower().lstrip('"')
    seen: set[str] = set()
    for candidate in candidates:
        if candidate in seen or not candidate.lower().lstrip('"').startswith(lowered):
            continue
        seen.add(candidate)
        yield Completion(candidate, start_position=-len(typed), display_meta=kind)


def _path_step(typed: str, paths: Iterable[str], kind: str) -> Iterator[Completion]:
    """Complete the last step of a dotted path: ``Owner.Na`` offers ``Name``."""
    depth = typed.count(".")
    parent, _, last = typed.rpartition(".")
    steps = []
    for path in paths:
        if path.count(".") != depth:
            continue
        path_parent, _, step = path.rpartition(".")
        if path_parent == parent:
            steps.append(quote(step))
    yield from _matching(last, steps, kind)
