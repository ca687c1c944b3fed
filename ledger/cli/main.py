"""The ``ledger`` command: one click group; ``shell``, ``execute``, ``history``, ``tables``.

The proof commands (get-digest, get-block, get-revision, verify, export, import) are
added by ``journal_commands.register``.  Exit codes: 0 ok, 1 error, 2 usage,
3 verification failed (see ledger/cli/errors.py).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

import ledger
from ledger import ion
from ledger.cli import config, explore, journal_commands
from ledger.cli.batch import run_batch
from ledger.cli.buffer import split_statements
from ledger.cli.copy_command import copy_command
from ledger.cli.errors import reported
from ledger.cli.options import (
    emit,
    format_option,
    ledger_argument,
    ledger_name,
    open_ledger,
    yes_option,
)
from ledger.cli.printer import Printer
from ledger.cli.session import Session, Settings
from ledger.database import MEMORY
from ledger.errors import Error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(ledger.__version__, prog_name="ledger")
def cli() -> None:
    """An embedded, QLDB-compatible ledger database.

    \b
    Examples:
      ledger shell vehicles.ledger          explore a ledger interactively
      ledger shell --demo                   explore a ready-made demo ledger
      ledger execute vehicles.ledger "SELECT * FROM Vehicle" --format table
      ledger tables vehicles.ledger
    """


@cli.command()
@ledger_argument(required=False)
@format_option()
@click.option(
    "-c",
    "--command",
    "commands",
    multiple=True,
    metavar="TEXT",
    help="Run this statement or meta-command, then exit (repeatable).",
)
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False),
    help="Run the statements in FILE, then exit.",
)
@click.option(
    "--timing/--no-timing",
    default=None,
    help="Print the summary line after each result (default: on in the shell).",
)
@click.option(
    "--demo", is_flag=True, help="Open a throwaway copy of the demo ledger (vehicles and people)."
)
@yes_option
def shell(
    path: str | None,
    fmt: str,
    commands: tuple[str, ...],
    file: str | None,
    timing: bool | None,
    demo: bool,
    yes: bool,
) -> None:
    """Run PartiQL statements on the ledger at PATH, interactively or from a script.

    Without PATH (or with --demo) the ledger is temporary. With -c, -f or piped
    input the statements run without a prompt: results on stdout, errors on stderr,
    a non-zero exit code on failure.

    \b
    Examples:
      ledger shell vehicles.ledger
      ledger shell vehicles.ledger -c "SELECT * FROM Vehicle" --format json
      ledger shell vehicles.ledger -f setup.sql
      echo "SELECT VALUE name FROM information_schema.user_tables" | ledger shell v.ledger
    """
    interactive = not commands and not file and sys.stdin.isatty()
    settings = Settings(
        format=fmt.lower(), timing=interactive if timing is None else timing, yes=yes
    )
    printer = Printer(
        interactive=interactive,
        color=interactive and config.color_enabled(sys.stdout.isatty()),
        pager=interactive,
    )
    with _shell_ledger(path, demo) as (location, name):
        if interactive and (demo or not path):
            printer.note("This ledger is temporary: it is removed when you quit.")
        with open_ledger(location, create=True) as db:
            session = Session(db, settings, printer)
            try:
                code = _run(session, name, interactive, commands, file)
            finally:
                printer.close()
    sys.exit(code)


def _run(
    session: Session, name: str, interactive: bool, commands: tuple[str, ...], file: str | None
) -> int:
    if interactive:
        from ledger.cli.shell import run_shell  # prompt_toolkit only when needed

        return run_shell(session, name)
    texts = list(commands)
    if file:
        texts.append(Path(file).read_text(encoding="utf-8"))
    if not commands and not file:
        texts.append(sys.stdin.read())
    return run_batch(session, texts)


@contextlib.contextmanager
def _shell_ledger(path: str | None, demo: bool) -> Iterator[tuple[str, str]]:
    """Where the shell's ledger is, and the name the prompt shows."""
    if demo:
        if path:
            raise click.UsageError("--demo opens its own temporary ledger; leave out PATH")
        with tempfile.TemporaryDirectory(prefix="ledger-demo-") as tmp:
            location = str(Path(tmp) / "vehicles.ledger")
            _build_demo(location)
            yield location, "demo"
        return
    yield (path or MEMORY), ledger_name(path or MEMORY)


def _build_demo(location: str) -> None:
    from ledger import demo

    with reported(), contextlib.redirect_stdout(io.StringIO()):
        demo.tour(Path(location))


@cli.command()
@ledger_argument()
@click.argument("statement")
@click.argument("params", nargs=-1)
@format_option()
@yes_option
def execute(path: str, statement: str, params: tuple[str, ...], fmt: str, yes: bool) -> None:
    """Run STATEMENT on the ledger at PATH (creating it if missing) and print the result.

    PARAMS are Ion text, bound to the statement's ? in order.

    \b
    Examples:
      ledger execute v.ledger "CREATE TABLE Vehicle"
      ledger execute v.ledger "INSERT INTO Vehicle ?" '{VIN: "1N4AL11D75C109151", Year: 2011}'
      ledger execute v.ledger "SELECT * FROM Vehicle WHERE Year > ?" 2010 --format table
    """
    values = [_ion_param(i, text) for i, text in enumerate(params, 1)]
    pieces = split_statements(statement)
    if values and len(pieces) != 1:
        raise click.UsageError("parameters need exactly one statement")
    with open_ledger(path, create=True) as db:
        session = Session(db, Settings(format=fmt.lower(), yes=yes), Printer())
        for piece in pieces:
            if not session.run_one(piece, values):
                break
        session.end()
    sys.exit(session.status)


def _ion_param(position: int, text: str) -> Any:
    try:
        return ion.loads(text)
    except Error as exc:
        raise click.BadParameter(
            f"parameter {position} is not Ion text: {exc}", param_hint="PARAMS"
        ) from exc


@cli.command()
@ledger_argument()
@click.argument("table")
@click.argument("doc_id", required=False, metavar="[DOCUMENT_ID]")
@format_option()
def history(path: str, table: str, doc_id: str | None, fmt: str) -> None:
    """Print every committed revision of TABLE, or of one document, oldest first.

    TABLE is a name or a table id (the id also finds dropped tables). Each revision
    has the committed-view shape: blockAddress, hash, data, metadata.

    \b
    Examples:
      ledger history v.ledger Vehicle
      ledger history v.ledger Vehicle 8F0TPCmdNQ6JTRpiLj2TmW --format table
    """
    with open_ledger(path, create=False) as db, reported():
        emit(explore.history_rows(db, table, doc_id), fmt.lower())


@cli.command()
@ledger_argument()
@format_option(default="table")
def tables(path: str, fmt: str) -> None:
    """List the tables of the ledger at PATH: name, id, status and indexed fields.

    \b
    Examples:
      ledger tables v.ledger
      ledger tables v.ledger --format json
    """
    with open_ledger(path, create=False) as db, reported():
        emit(explore.table_rows(db), fmt.lower())


journal_commands.register(cli)
cli.add_command(copy_command)


def main() -> None:
    """The console script ``ledger`` (and ``python -m ledger``)."""
    cli(prog_name="ledger")
