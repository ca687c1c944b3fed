"""The ``ledger`` command: one click group; ``shell``, ``execute``, ``history``, ``tables``.

The proof commands (get-digest, get-block, get-revision, verify, export, import) are
added by ``journal_commands.register``.  Exit codes: 0 ok, 1 error, 2 usage,
3 verification failed (see ledger/cli/errors.py).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import ledger
from ledger.cli.errors import EXIT_INTERRUPTED, reported
from ledger.cli.options import (
    MEMORY,
    create_option,
    emit,
    format_option,
    ledger_argument,
    ledger_name,
    open_ledger,
    timeout_option,
    yes_option,
)

if TYPE_CHECKING:
    from ledger.cli.session import Session

# Commands whose modules load only when the command runs (or --help lists them), so
# that `ledger --version` and `ledger execute` do not pay for the audit side.  Each
# module has ``register(group)``.  A name not listed here loads every module.
LAZY_COMMANDS = {
    "load": "ledger.cli.load_command",
    "serve": "ledger.cli.serve_command",
    "stream": "ledger.cli.stream_command",
    "copy": "ledger.cli.copy_command",
    **{
        name: "ledger.cli.journal_commands"
        for name in (
            "get-digest",
            "get-block",
            "get-revision",
            "prove-consistency",
            "verify",
            "export",
            "import",
            "verify-export",
            "keygen",
            "check-proof",
        )
    },
}


def version_lines() -> list[str]:
    """What `ledger --version` prints.  Keep it cheap: a line added here (such as which
    core is in use) must not import the query engine."""
    return [f"ledger, version {ledger.__version__} ({core_name()} core)"]


def core_name() -> str:
    """``ledger.hashing.native.CORE_NAME``, found without importing the hashing package
    (that loads amazon.ion): compiled when its build is there and not switched off."""
    import os
    from importlib.machinery import EXTENSION_SUFFIXES
    from pathlib import Path

    if os.environ.get("LEDGER_PURE_PYTHON", "") not in ("", "0"):
        return "pure-Python"
    if os.environ.get("LEDGER_NATIVE_DIR"):
        return "compiled"
    hashing = Path(ledger.__file__).parent / "hashing"
    built = any((hashing / f"_native{suffix}").exists() for suffix in EXTENSION_SUFFIXES)
    return "compiled" if built else "pure-Python"


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo("\n".join(version_lines()))
    ctx.exit()


class _Group(click.Group):
    """Ctrl-C outside the shell's prompt ends any command with exit code 130; the
    commands in LAZY_COMMANDS are imported when needed."""

    def _load(self, modules: set[str]) -> None:
        for module in sorted(modules):
            importlib.import_module(module).register(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            home = LAZY_COMMANDS.get(cmd_name)
            self._load({home} if home else set(LAZY_COMMANDS.values()))
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load(set(LAZY_COMMANDS.values()))
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
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
@create_option
@timeout_option
def shell(
    path: str | None,
    fmt: str,
    commands: tuple[str, ...],
    file: str | None,
    timing: bool | None,
    demo: bool,
    yes: bool,
    create: bool,
    timeout: float | None,
) -> None:
    """Run PartiQL statements on the ledger at PATH, interactively or from a script.

    PATH must hold a ledger (--create makes one if PATH is missing or an empty
    directory).  Without PATH (or with --demo) the ledger is temporary. With -c, -f or piped
    input the statements run without a prompt: results on stdout, errors on stderr,
    a non-zero exit code on failure.

    \b
    Examples:
      ledger shell vehicles.ledger
      ledger shell vehicles.ledger -c "SELECT * FROM Vehicle" --format json
      ledger shell vehicles.ledger -f setup.sql
      echo "SELECT VALUE name FROM information_schema.user_tables" | ledger shell v.ledger
    """
    from ledger.cli import config
    from ledger.cli.printer import Printer
    from ledger.cli.session import Session, Settings

    interactive = not commands and not file and sys.stdin.isatty()
    settings = Settings(
        format=fmt.lower(), timing=interactive if timing is None else timing, yes=yes
    )
    printer = Printer(
        interactive=interactive,
        color=interactive and config.color_enabled(sys.stdout.isatty()),
        pager=interactive,
    )
    _exit_on_hangup()
    with _shell_ledger(path, demo) as (location, name):
        if interactive and (demo or not path):
            printer.note("This ledger is temporary: it is removed when you quit.")
        with open_ledger(
            location, create=create or demo or not path, write=True, timeout=timeout
        ) as db:
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
    from ledger.cli.batch import run_batch
    from ledger.cli.buffer import check_text, decode_input
    from ledger.cli.errors import ShellError

    texts: list[str | tuple[str, str]] = []
    try:
        texts += [check_text(c, f"-c {i}") for i, c in enumerate(commands, 1)]
        if file:
            texts.append((decode_input(Path(file).read_bytes(), file), file))
        if not commands and not file:
            texts.append((decode_input(sys.stdin.buffer.read(), "standard input"), "stdin"))
    except ShellError as exc:
        session.fail(str(exc))
        return session.status
    return run_batch(session, texts)


def _hang_up(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _exit_on_hangup() -> None:
    """A closed terminal (SIGHUP) or SIGTERM unwinds like \\q: an open transaction is
    aborted and a temporary ledger removed."""
    import signal

    for name in ("SIGHUP", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _hang_up)


@contextlib.contextmanager
def _shell_ledger(path: str | None, demo: bool) -> Iterator[tuple[str, str]]:
    """Where the shell's ledger is, and the name the prompt shows."""
    if demo:
        if path:
            raise click.UsageError("--demo opens its own temporary ledger; leave out PATH")
        import tempfile

        with tempfile.TemporaryDirectory(prefix="ledger-demo-") as tmp:
            location = str(Path(tmp) / "vehicles.ledger")
            _build_demo(location)
            yield location, "demo"
        return
    yield (path or MEMORY), ledger_name(path or MEMORY)


def _build_demo(location: str) -> None:
    import io

    from ledger import demo

    with reported(), contextlib.redirect_stdout(io.StringIO()):
        demo.tour(Path(location))


@cli.command()
@ledger_argument()
@click.argument("statement")
@click.argument("params", nargs=-1)
@format_option()
@yes_option
@create_option
@timeout_option
def execute(
    path: str,
    statement: str,
    params: tuple[str, ...],
    fmt: str,
    yes: bool,
    create: bool,
    timeout: float | None,
) -> None:
    """Run STATEMENT on the ledger at PATH and print the result.

    PARAMS are Ion text, bound to the statement's ? in order.

    \b
    Examples:
      ledger execute v.ledger "CREATE TABLE Vehicle" --create
      ledger execute v.ledger "INSERT INTO Vehicle ?" '{VIN: "1N4AL11D75C109151", Year: 2011}'
      ledger execute v.ledger "SELECT * FROM Vehicle WHERE Year > ?" 2010 --format table
    """
    from ledger.cli.buffer import check_text, split_statements
    from ledger.cli.printer import Printer
    from ledger.cli.session import Session, Settings

    with reported():
        check_text(statement, "STATEMENT")
        for i, text in enumerate(params, 1):
            check_text(text, f"parameter {i}")
    values = [_ion_param(i, text) for i, text in enumerate(params, 1)]
    pieces = split_statements(statement)
    if values and len(pieces) != 1:
        raise click.UsageError("parameters need exactly one statement")
    with open_ledger(path, create=create, write=True, timeout=timeout) as db:
        session = Session(db, Settings(format=fmt.lower(), yes=yes), Printer())
        for piece in pieces:
            if not session.run_one(piece, values):
                break
        session.end()
    sys.exit(session.status)


def _ion_param(position: int, text: str) -> Any:
    from ledger import ion
    from ledger.errors import Error

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
    from ledger.cli import explore

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
    from ledger.cli import explore

    with open_ledger(path, create=False) as db, reported():
        emit(explore.table_rows(db), fmt.lower())


@cli.command()
@click.argument("path", type=click.Path(path_type=str))
def create(path: str) -> None:
    """Create a new, empty ledger at PATH (a missing or empty directory).

    \b
    Example:
      ledger create vehicles.ledger
      ledger execute vehicles.ledger "CREATE TABLE Vehicle"
    """
    with reported():
        ledger.connect(path, create=True).close()
    click.echo(f"Created an empty ledger at {path}.", err=True)




def main() -> None:
    """The console script ``ledger`` (and ``python -m ledger``)."""
    cli(prog_name="ledger")
