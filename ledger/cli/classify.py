"""Classify one piece of input: a meta-command, transaction control, or a statement.

The shell decides what to do with input before the parser sees it: ``BEGIN``,
``COMMIT`` and ``ABORT`` are the shell's (QLDB had no such statements; its drivers
and shell managed transactions), ``\\``-commands go to the registry, and statements
are checked for writes (to refresh completions) and for whole-table UPDATE/DELETE
(to ask before running them).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.cli import scanner

META = "meta"
BEGIN = "begin"
COMMIT = "commit"
ABORT = "abort"
STATEMENT = "statement"

_CONTROL = {
    ("BEGIN",): BEGIN,
    ("BEGIN", "TRANSACTION"): BEGIN,
    ("BEGIN", "WORK"): BEGIN,
    ("START", "TRANSACTION"): BEGIN,
    ("COMMIT",): COMMIT,
    ("COMMIT", "TRANSACTION"): COMMIT,
    ("COMMIT", "WORK"): COMMIT,
    ("ABORT",): ABORT,
    ("ABORT", "TRANSACTION"): ABORT,
    ("ROLLBACK",): ABORT,
    ("ROLLBACK", "TRANSACTION"): ABORT,
    ("ROLLBACK", "WORK"): ABORT,
}
# Bare words a newcomer types first; they mean the matching meta-command.
_WORD_ALIASES = {"help": "?", "quit": "q", "exit": "q"}
_WRITE_VERBS = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "UNDROP", "EXEC"}
_DDL_VERBS = {"CREATE", "DROP", "UNDROP"}
_DML_OPS = {"SET", "REMOVE", "INSERT"}


@dataclass(frozen=True)
class Command:
    kind: str
    text: str
    name: str = ""  # meta-command name, without the backslash
    args: str = ""  # meta-command arguments
    verb: str = ""  # a statement's first keyword, upper-cased
    writes: bool = False
    ddl: bool = False
    unbounded: bool = False  # UPDATE/DELETE/FROM-DML without WHERE: touches every document
    table: str = ""  # the table an unbounded statement changes


def classify(text: str) -> Command:
    """What ``text`` (one piece from ``buffer.split_statements``) asks for."""
    stripped = text.strip().rstrip(";").strip()
    if stripped.startswith("\\"):
        name, _, args = stripped[1:].partition(" ")
        return Command(META, stripped, name=name, args=args.strip())
    if stripped.lower() in _WORD_ALIASES:
        return Command(META, stripped, name=_WORD_ALIASES[stripped.lower()])
    words = scanner.words_at_depth_zero(stripped)
    control = _CONTROL.get(tuple(words))
    if control is not None:
        return Command(control, stripped)
    return _statement(stripped, words)


def _statement(text: str, words: list[str]) -> Command:
    verb = words[0] if words else ""
    from_dml = verb == "FROM" and any(w in _DML_OPS for w in words)
    writes = verb in _WRITE_VERBS or from_dml
    changes_docs = verb in ("UPDATE", "DELETE") or from_dml
    unbounded = changes_docs and "WHERE" not in words
    return Command(
        STATEMENT,
        text,
        verb=verb,
        writes=writes,
        ddl=verb in _DDL_VERBS,
        unbounded=unbounded,
        table=_target_table(text, verb) if unbounded else "",
    )


def _target_table(text: str, verb: str) -> str:
    """The name after UPDATE / DELETE FROM / FROM, as written."""
    skip = 2 if verb == "DELETE" else 1
    names = [t for t in scanner.significant(text)][skip : skip + 1]
    if not names or names[0].kind not in (scanner.WORD, scanner.QUOTED):
        return ""
    return names[0].text.strip('"')
