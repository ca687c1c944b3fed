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


def _highlight(text: str, fmt: str) -> tuple[str, str | None]:
    """``text`` coloured, and a warning when LEDGER_STYLE names no Pygments style (the
    default style is used then: a result is never lost to a colour setting)."""
    from pygments import highlight
    from pygments.formatters import Terminal256Formatter
    from pygments.lexers.data import JsonLexer
    from pygments.util import ClassNotFound

    from ledger.cli.lexer import IonLexer

    lexer = IonLexer() if fmt == "ion" else JsonLexer()
    warning = None
    try:
        formatter = Terminal256Formatter(style=config.style_name())
    except ClassNotFound:
        warning = f"LEDGER_STYLE={config.style_name()!r} is not a Pygments style; using the default."
        formatter = Terminal256Formatter(style="default")
    return highlight(text, lexer, formatter), warning


class Printer:
    def __init__(
        self, *, interactive: bool = False, color: bool = False, pager: bool = False
    ) -> None:
        self.interactive = interactive
        self.color = color
        self.pager = pager
        self.file: IO[str] | None = None  # set by \o
        self.file_name: str | None = None
        self._warned_style = False

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
            text, warning = _highlight(text, fmt)
            if warning and not self._warned_style:
                self._warned_style = True
                self.note(warning)
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
