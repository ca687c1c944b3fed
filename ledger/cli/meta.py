"""The registry of backslash commands (``\\dt``, ``\\d``, ``\\format``, …) and their bodies.

Each command is a function ``(session, args) -> None`` registered with its usage and
one line of help; ``\\?`` lists the registry, completion reads it, and the docs test
checks that every entry is documented.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.cli import explore, proofs
from ledger.cli.errors import ShellError
from ledger.cli.output import FORMATS, format_table
from ledger.cli.printer import Printer
from ledger.database import Ledger
from ledger.errors import VerificationError


class _Settings(Protocol):
    format: str
    timing: bool
    expanded: bool


class Session(Protocol):
    """What a command sees of the shell's session: ``ledger.cli.session.Session``
    imports this registry, so the registry names only the shape, and imports flow one
    way (session -> meta)."""

    finished: bool

    @property
    def db(self) -> Ledger: ...

    @property
    def printer(self) -> Printer: ...

    @property
    def settings(self) -> _Settings: ...

    @property
    def in_transaction(self) -> bool: ...

    @property
    def on_write(self) -> Callable[[], None]: ...

    def show(self, rows: Sequence[Any], human: str | None = None) -> None: ...

    def run_file(self, path: str) -> bool: ...

    def end(self) -> bool: ...


Handler = Callable[[Session, str], None]

TABLE = "table"  # argument kinds, for completion
FORMAT = "format"
FILE = "file"


@dataclass(frozen=True)
class MetaCommand:
    name: str  # without the backslash
    usage: str
    help: str
    run: Handler
    aliases: tuple[str, ...] = ()
    argument: str = ""  # TABLE, FORMAT, FILE or "" (what to complete after it)


_REGISTRY: dict[str, MetaCommand] = {}


def command(
    name: str, usage: str, help: str, *, aliases: tuple[str, ...] = (), argument: str = ""
) -> Callable[[Handler], Handler]:
    """Register the decorated function as ``\\name``."""

    def register(fn: Handler) -> Handler:
        entry = MetaCommand(name, usage, help, fn, aliases, argument)
        for key in (name, *aliases):
            _REGISTRY[key] = entry
        return fn

    return register


def lookup(name: str) -> MetaCommand | None:
    return _REGISTRY.get(name)


def commands() -> list[MetaCommand]:
    """Each command once, in registration order."""
    return list({id(c): c for c in _REGISTRY.values()}.values())


# -- exploring ------------------------------------------------------------------------------
@command("dt", "\\dt", "list tables (name, id, status, indexed fields)")
def list_tables(session: Session, args: str) -> None:
    rows = explore.table_rows(session.db)
    if not rows:
        session.printer.note("No tables yet. Create one with: CREATE TABLE Person")
        return
    session.show(rows, human="table")


@command(
    "d", "\\d TABLE", "describe a table: indexes, document count, sampled fields", argument=TABLE
)
def describe_table(session: Session, args: str) -> None:
    if not args:
        list_tables(session, args)
        return
    description = explore.describe(session.db, args.strip().strip('"'))
    if session.settings.format not in ("ion", "table", "vertical"):
        session.show([description.to_ion()])
        return
    session.printer.data(_description_text(description), "")


def _description_text(d: explore.Description) -> str:
    info = d.info
    noun = "document" if d.documents == 1 else "documents"
    lines = [f"Table {info.name} (tableId {info.table_id}, {info.status}): {d.documents} {noun}"]
    lines.append("Indexes:" if info.indexes else "Indexes: none")
    text = "\n".join(lines) + "\n" + format_table(d.index_rows())
    sampled = d.fields.documents
    if not sampled:
        return text + "Fields: none (no documents)\n"
    return (
        text
        + f"Fields (sampled from {sampled} {'document' if sampled == 1 else 'documents'}):\n"
        + format_table(d.field_rows())
    )


@command(
    "history",
    "\\history TABLE [DOCUMENT_ID]",
    "every revision of a table, or of one document",
    argument=TABLE,
)
def show_history(session: Session, args: str) -> None:
    parts = args.split()
    if not parts or len(parts) > 2:
        raise ShellError("usage: \\history TABLE [DOCUMENT_ID]")
    rows = explore.history_rows(
        session.db, parts[0].strip('"'), parts[1] if len(parts) > 1 else None
    )
    if not rows:
        session.printer.note("No revisions.")
        return
    session.show(rows)


# -- proofs -----------------------------------------------------------------------------------
@command("digest", "\\digest", "the ledger digest and the tip address it covers")
def show_digest(session: Session, args: str) -> None:
    session.show([proofs.digest_row(session.db)], human="vertical")


@command("verify", "\\verify", "re-hash the whole journal and check it against the digest")
def verify(session: Session, args: str) -> None:
    report = proofs.verify(session.db)
    session.show([report.to_json()], human="vertical")
    if not report.verified:
        raise VerificationError(f"verification failed: {report.failure}")
    session.printer.note(f"Verified {report.blocks} blocks and {report.revisions} revisions.")


@command(
    "proof",
    "\\proof ADDRESS DOCUMENT_ID",
    'a revision and its proof; ADDRESS is {strandId:"…",sequenceNo:N}',
)
def show_proof(session: Session, args: str) -> None:
    address, doc_id = proofs.split_proof_args(args)
    row = proofs.proof_row(session.db, address, doc_id)
    session.show([row])
    proofs.check_row(row)  # VerificationError (exit 3) if what was printed does not check
    session.printer.note(
        "Proof checked: the revision's hash recomputes from its contents and the proof "
        "folds to the digest."
    )


# -- display ---------------------------------------------------------------------------------
@command(
    "format",
    "\\format [" + "|".join(FORMATS) + "]",
    "show or set the output format",
    argument=FORMAT,
)
def set_format(session: Session, args: str) -> None:
    name = args.strip().lower()
    if not name:
        session.printer.note(
            f"Output format is {session.settings.format} (choices: {', '.join(FORMATS)})."
        )
        return
    if name not in FORMATS:
        raise ShellError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    session.settings.format = name
    session.printer.note(f"Output format is {name}.")


def _switch(args: str, current: bool, what: str) -> bool:
    """``on``/``off`` set the switch; no argument flips it."""
    word = args.strip().lower()
    if not word:
        return not current
    if word in ("on", "true", "1"):
        return True
    if word in ("off", "false", "0"):
        return False
    raise ShellError(f"usage: \\{what} [on|off]")


@command("timing", "\\timing [on|off]", "the summary line (documents in bag, time taken)")
def toggle_timing(session: Session, args: str) -> None:
    session.settings.timing = _switch(args, session.settings.timing, "timing")
    session.printer.note(f"Timing is {'on' if session.settings.timing else 'off'}.")


@command("x", "\\x [on|off]", "expanded display: one field per line (ion and table formats)")
def toggle_expanded(session: Session, args: str) -> None:
    session.settings.expanded = _switch(args, session.settings.expanded, "x")
    session.printer.note(f"Expanded display is {'on' if session.settings.expanded else 'off'}.")


@command("pager", "\\pager [on|off]", "paging of long results (uses $PAGER, else less)")
def toggle_pager(session: Session, args: str) -> None:
    session.printer.pager = _switch(args, session.printer.pager, "pager")
    session.printer.note(f"Pager is {'on' if session.printer.pager else 'off'}.")


# -- files and the session ----------------------------------------------------------------------
@command("i", "\\i FILE", "run the statements in FILE", argument=FILE)
def include(session: Session, args: str) -> None:
    if not args:
        raise ShellError("usage: \\i FILE")
    session.run_file(args.strip())


@command(
    "import",
    "\\import FILE TABLE",
    "load a file of documents (JSON Lines, JSON, Ion, CSV) into TABLE",
    argument=FILE,
)
def import_file(session: Session, args: str) -> None:
    from ledger.load import Loader, format_of, read, resume_hint, summary

    parts = shlex.split(args)
    if len(parts) != 2:
        raise ShellError("usage: \\import FILE TABLE")
    if session.in_transaction:
        raise ShellError("\\import commits its own transactions: COMMIT or ABORT the open one first")
    path, table = os.path.expanduser(parts[0]), parts[1]
    loader = Loader(session.db, table, create_table=True)
    result = loader.run(read(path, format_of(path)))
    session.printer.note(summary(result))
    session.on_write()
    if result.error is not None:
        raise ShellError(f"{result.error}\n{resume_hint(result)} (ledger load --skip)")


@command(
    "o", "\\o [FILE]", "send results to FILE; without FILE, back to the terminal", argument=FILE
)
def redirect(session: Session, args: str) -> None:
    path = args.strip() or None
    try:
        session.printer.redirect(path)
    except OSError as exc:
        raise ShellError(f"cannot write {path}: {exc.strerror or exc}") from exc
    session.printer.note(f"Results go to {path}." if path else "Results go to the terminal.")


@command("?", "\\?", "this help", aliases=("help", "h"))
def show_help(session: Session, args: str) -> None:
    session.printer.data(help_text(), "")


@command("q", "\\q", "quit (an open transaction is aborted)", aliases=("quit", "exit"))
def quit_shell(session: Session, args: str) -> None:
    session.finished = True
    if session.end():
        session.printer.note("The open transaction was aborted: nothing was written.")


def help_text() -> str:
    entries = commands()
    width = max(len(c.usage) for c in entries)
    lines = ["Meta-commands:"]
    lines += [f"  {c.usage.ljust(width)}  {c.help}" for c in entries]
    lines += [
        "",
        "Statements (PartiQL, as in Amazon QLDB) run on ';', or on Enter once their",
        "brackets, << >> and quotes are closed; Esc+Enter starts a new line.",
        "Each statement commits on its own; BEGIN (or START TRANSACTION) opens a",
        "transaction, COMMIT writes it, ABORT drops it.",
        "Try: SELECT * FROM information_schema.user_tables",
    ]
    return "\n".join(lines) + "\n"
