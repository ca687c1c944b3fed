"""Options and helpers every command shares: ``--format``, the ledger path, ``--yes``.

One decorator per option, reused by every command (and by journal_commands), so the
flags read the same everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ledger.cli.errors import EXIT_USAGE, CliFailure, reported

if TYPE_CHECKING:
    from ledger.database import Ledger

MEMORY = ":memory:"  # ledger.database.MEMORY, without loading the engine to know it
# ledger.cli.output.FORMATS, named here so that declaring --format loads no formatter
FORMATS = ("ion", "json", "jsonl", "table", "csv", "vertical")

F = TypeVar("F", bound=Callable[..., Any])


def format_option(default: str = "ion") -> Callable[[F], F]:
    """``--format`` (passed to the command as ``fmt``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS, case_sensitive=False),
        default=default,
        show_default=True,
        help="Output format: ion (pretty, as QLDB showed it), json, jsonl, table "
        "(nested fields as dotted columns), csv or vertical.",
    )


def _is_url(location: str) -> bool:
    """``ledger.storage.is_url``, loaded only when a command runs (it brings LMDB)."""
    from ledger.storage import is_url

    return is_url(location)


class LedgerLocation(click.Path):
    """A ledger directory, or a ``postgresql://`` URL (which skips the file checks)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and _is_url(value):
            return value
        return super().convert(value, param, ctx)


def ledger_argument(required: bool = True) -> Callable[[F], F]:
    """The ledger directory (or PostgreSQL URL), ``PATH``."""
    return click.argument(
        "path",
        required=required,
        type=LedgerLocation(file_okay=False, path_type=str),
        metavar="PATH" if required else "[PATH]",
    )


def yes_option(fn: F) -> F:
    return click.option(
        "--yes",
        "-y",
        is_flag=True,
        help="Run UPDATE and DELETE without WHERE without asking first.",
    )(fn)


def timeout_option(fn: F) -> F:
    return click.option(
        "--transaction-timeout",
        "timeout",
        type=click.FloatRange(min=0, min_open=True),
        help="Seconds a transaction may stay open before it expires (default 30, QLDB's); "
        "read-only statements always keep their results.",
    )(fn)


def create_option(fn: F) -> F:
    return click.option(
        "--create",
        is_flag=True,
        help="Create the ledger if PATH is missing or an empty directory.",
    )(fn)


def require_ledger(path: str) -> str:
    """``path`` if a ledger is there; otherwise the one message and exit code (2) every
    command gives for a path that holds no ledger.  A PostgreSQL URL passes: its
    server says whether the ledger is there when the command connects."""
    if _is_url(path):
        return path
    from ledger.storage import lmdb_store

    state = lmdb_store.path_state(path)
    if state == lmdb_store.LEDGER:
        return path
    if state in (lmdb_store.MISSING, lmdb_store.EMPTY):
        raise CliFailure(f"no ledger at {path} (create one with `ledger create {path}`)", EXIT_USAGE)
    what = "a file" if state == lmdb_store.FILE else "a directory of other files"
    raise CliFailure(f"{path} is not a ledger: it is {what}", EXIT_USAGE)


def _may_create(path: str) -> bool:
    from ledger.storage import lmdb_store

    return lmdb_store.path_state(path) not in (lmdb_store.FILE, lmdb_store.OTHER)


class LedgerPath(click.ParamType):
    """A PATH argument that must hold a ledger (checked before the command runs)."""

    name = "PATH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return require_ledger(os.fspath(value))


@contextmanager
def open_ledger(
    path: str, *, create: bool = False, write: bool = False, timeout: float | None = None
) -> Iterator[Ledger]:
    """The ledger at ``path``, read-only unless ``write``; a missing one (or an empty
    directory) is made only when ``create``, never in a directory of other files.
    ``timeout``: the transaction timeout in seconds (default: Limits')."""
    if path != MEMORY and not _is_url(path) and not (create and _may_create(path)):
        require_ledger(path)
    import ledger

    limits = None if timeout is None else ledger.Limits(transaction_timeout=timeout)
    with reported():
        db = ledger.connect(
            path,
            readonly=not (write or create),
            create=None if create else False,
            limits=limits,
        )
    try:
        yield db
    finally:
        db.close()


def emit(rows: Sequence[Any], fmt: str) -> None:
    """Write ``rows`` to stdout in ``fmt``."""
    from ledger.cli.output import render

    click.echo(render(rows, fmt), nl=False)


def ledger_name(path: str) -> str:
    """What the prompt calls a ledger: its directory name without ``.ledger``."""
    if path == MEMORY:
        return "memory"
    if _is_url(path):
        from ledger.storage import store_name

        return store_name(path)
    base = os.path.basename(os.path.normpath(path))
    return base[: -len(".ledger")] if base.endswith(".ledger") and len(base) > 7 else base
