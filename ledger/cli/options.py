"""Options and helpers every command shares: ``--format``, the ledger path, ``--yes``.

One decorator per option, reused by every command (and by journal_commands), so the
flags read the same everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

import ledger
from ledger.cli.errors import CliFailure, reported
from ledger.cli.output import FORMATS, render
from ledger.database import MEMORY, Ledger
from ledger.storage import is_url, store_name

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


class LedgerLocation(click.Path):
    """A ledger directory, or a ``postgresql://`` URL (which skips the file checks)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and is_url(value):
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


@contextmanager
def open_ledger(path: str, *, create: bool) -> Iterator[Ledger]:
    """The ledger at ``path``; a missing one is created only when ``create``."""
    if not create and path != MEMORY and not is_url(path) and not os.path.isdir(path):
        raise CliFailure(f"no ledger at {path}")
    with reported():
        db = ledger.connect(path, readonly=not create)
    try:
        yield db
    finally:
        db.close()


def emit(rows: Sequence[Any], fmt: str) -> None:
    """Write ``rows`` to stdout in ``fmt``."""
    click.echo(render(rows, fmt), nl=False)


def ledger_name(path: str) -> str:
    """What the prompt calls a ledger: its directory name without ``.ledger``."""
    if path == MEMORY:
        return "memory"
    if is_url(path):
        return store_name(path)
    base = os.path.basename(os.path.normpath(path))
    return base[: -len(".ledger")] if base.endswith(".ledger") and len(base) > 7 else base
