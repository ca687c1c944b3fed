"""``ledger load``: files of documents into a table, in whole transactions.

A progress line (documents and rate) goes to stderr when it is a terminal; the
summary goes to stdout.  A bad record stops the load with its file, line and reason,
after committing everything before it; the message says which ``--skip`` resumes.
Ctrl-C leaves only whole transactions and exits 130.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

import click

from ledger.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, CliFailure, reported
from ledger.cli.options import create_option, open_ledger
from ledger.load import FORMATS, Loader, LoadResult, Record, format_of, read, resume_hint, summary


class ProgressLine:
    """``loaded 12,345 documents (4,321/s)`` rewritten in place, at most 10 times a second."""

    def __init__(self, stream: IO[str], enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._shown = 0.0

    def __call__(self, result: LoadResult) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._shown < 0.1:
            return
        self._shown = now
        self.stream.write(f"\rloaded {result.loaded:,} documents ({result.rate:,.0f}/s)  ")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def records(files: tuple[str, ...], fmt: str | None, strings: bool) -> Iterator[Record]:
    formats = [fmt or format_of(f) for f in files]  # every name checked before loading
    for file, file_fmt in zip(files, formats, strict=True):
        yield from read(file, file_fmt, strings=strings)


@contextlib.contextmanager
def deferred_interrupt(loader: Loader) -> Iterator[None]:
    """Ctrl-C takes effect between transactions, once the count of what was committed
    is up to date, so the summary and ``--skip`` are exact."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    asked: list[bool] = []
    shown = loader.progress

    def on_commit(result: LoadResult) -> None:
        shown(result)
        if asked:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, lambda signum, frame: asked.append(True))
    loader.progress = on_commit
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        loader.progress = shown
    if asked:
        raise KeyboardInterrupt


def run_load(loader: Loader, files: tuple[str, ...], fmt: str | None, strings: bool) -> LoadResult:
    """Run ``loader`` over ``files``; Ctrl-C reports what was committed and exits 130."""
    try:
        with deferred_interrupt(loader):
            return loader.run(records(files, fmt, strings))
    except KeyboardInterrupt:
        result = loader.result
        result.tick()
        click.echo(summary(result))
        raise CliFailure(
            f"interrupted: only whole transactions were committed; resume with --skip "
            f"{result.resume_at}",
            EXIT_INTERRUPTED,
        ) from None


@click.command("load")
@click.argument("path", type=click.Path(file_okay=False, path_type=str))
@click.argument("table")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="jsonl (one JSON object a line), json (an array), ion (a stream of structs) or "
    "csv (a header row, then one document a row).  Default: from each file's extension.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    help="Documents per transaction (default and maximum: the limit, 40 as in QLDB).",
)
@click.option(
    "--skip",
    type=click.IntRange(min=0),
    default=0,
    help="Pass over the first N records (resume a load that stopped).",
)
@click.option("--create-table", is_flag=True, help="Create TABLE if it does not exist.")
@click.option(
    "--csv-strings",
    is_flag=True,
    help="CSV: keep every cell a string (default: read numbers, timestamps, true/false "
    "and null as the shell reads Ion values; empty cells leave the field out).",
)
@create_option
def load(
    path: str,
    table: str,
    files: tuple[str, ...],
    fmt: str | None,
    batch: int | None,
    skip: int,
    create_table: bool,
    csv_strings: bool,
    create: bool,
) -> None:
    """Load the documents in FILE... into TABLE of the ledger at PATH.

    Documents go in transactions of at most --batch (40 by default); a bad record
    stops the load with its file, line and reason, after committing every record
    before it, and the message says which --skip resumes from it.

    \b
    Examples:
      ledger load v.ledger Vehicle vehicles.jsonl --create-table
      ledger load v.ledger Person people.csv
      ledger load v.ledger Vehicle vehicles.jsonl --skip 81920   # resume
    """
    with open_ledger(path, create=create, write=True) as db, reported():
        progress = ProgressLine(sys.stderr, sys.stderr.isatty())
        loader = Loader(
            db, table, batch=batch, skip=skip, create_table=create_table, progress=progress
        )
        try:
            result = run_load(loader, files, fmt.lower() if fmt else None, csv_strings)
        finally:
            progress.clear()
    click.echo(summary(result))
    if result.error is not None:
        raise CliFailure(f"{result.error}\n{resume_hint(result)}", EXIT_ERROR)


def register(group: click.Group) -> None:
    """Add ``load`` to ``group`` (ledger/cli/main.py loads this module when needed)."""
    group.add_command(load)
