"""Where output goes: data to stdout (or the ``\\o`` file), notes and errors apart.

Non-interactive runs keep stdout for data only: notes (summaries, "Transaction
committed") go to stderr there.  In the shell, long results go through a pager and
Ion/JSON results are coloured when the terminal allows it.
"""

from __future__ import annotations

import os
import shutil
from typing import IO

import click

from ledger.cli import config

_COLOURED = ("ion", "json", "jsonl")  # formats with a lexer (pygments loads when used)


def _highlight(text: str, fmt: str) -> str:
    from pygments import highlight
    from pygments.formatters import Terminal256Formatter
    from pygments.lexers.data import JsonLexer

    from ledger.cli.lexer import IonLexer

    lexer = IonLexer() if fmt == "ion" else JsonLexer()
    return highlight(text, lexer, Terminal256Formatter(style=config.style_name()))


class Printer:
    def __init__(
        self, *, interactive: bool = False, color: bool = False, pager: bool = False
    ) -> None:
        self.interactive = interactive
        self.color = color
        self.pager = pager
        self.file: IO[str] | None = None  # set by \o
        self.file_name: str | None = None

    # -- data ---------------------------------------------------------------------
    def data(self, text: str, fmt: str = "") -> None:
        """A result, in format ``fmt`` (for colouring)."""
        if not text:
            return
        if self.file is not None:
            self.file.write(text)
            self.file.flush()
            return
        if self.color and fmt in _COLOURED:
            text = _highlight(text, fmt)
        if self._needs_pager(text):
            os.environ.setdefault("LESS", "-SRXF")
            click.echo_via_pager(text, color=self.color)
            return
        click.echo(text, nl=False, color=self.color if self.color else None)

    def _needs_pager(self, text: str) -> bool:
        if not (self.interactive and self.pager):
            return False
        return text.count("\n") > shutil.get_terminal_size().lines - 2

    # -- everything else ---------------------------------------------------------------
    def note(self, text: str) -> None:
        """Status for the person at the terminal (stderr when not interactive)."""
        click.echo(text, err=not self.interactive)

    def error(self, text: str) -> None:
        message = f"Error: {text}"
        if self.color:
            message = click.style(message, fg="red")
        click.echo(message, err=True, color=self.color if self.color else None)

    # -- \o ----------------------------------------------------------------------------
    def redirect(self, path: str | None) -> None:
        """Send data to ``path`` (truncated), or back to stdout when None."""
        self.close()
        if path:
            self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
            self.file_name = path

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        self.file = None
        self.file_name = None
