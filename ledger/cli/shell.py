"""The interactive shell: prompt_toolkit wired to a ``Session``.

This module only assembles the parts: the PartiQL lexer, the completer and its
background refresher, the key bindings, file history, a prompt that shows an open
transaction, and a toolbar that tells a newcomer what the keys do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click
from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import BaseStyle, Style, merge_styles, style_from_pygments_cls
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound

import ledger
from ledger.cli import config, explore
from ledger.cli.completer import PartiQLCompleter
from ledger.cli.keys import shell_bindings
from ledger.cli.lexer import PartiQLLexer
from ledger.cli.refresh import Refresher
from ledger.cli.session import Session

_UI_STYLE = {
    "prompt": "bold",
    "transaction": "bold ansiyellow",
    "bottom-toolbar": "noreverse bg:ansibrightblack ansiwhite",
}


def run_shell(session: Session, name: str) -> int:
    """Read statements until ``\\q`` or Ctrl-D; returns the exit code (0)."""
    refresher = Refresher(session.db)
    session.on_write = refresher.refresh
    session.confirm = _ask
    refresher.refresh()
    prompt = _prompt_session(session, refresher)
    session.printer.note(banner(session, name))
    while not session.finished:
        text = _read(prompt, session, name)
        if text is None:
            _leave(session)
            break
        try:
            session.run(text)
        except KeyboardInterrupt:
            session.printer.note("Cancelled.")
    refresher.wait(1.0)
    return 0


def _read(prompt: PromptSession[str], session: Session, name: str) -> str | None:
    """One input; "" after Ctrl-C (the input is dropped), None at Ctrl-D."""
    try:
        return prompt.prompt(lambda: prompt_message(session, name))
    except KeyboardInterrupt:
        return ""
    except EOFError:
        return None


def _leave(session: Session) -> None:
    if session.end():
        session.printer.note("The open transaction was aborted: nothing was written.")


def _ask(message: str) -> bool:
    return click.confirm(message, default=False)


class _History(FileHistory):
    """The history file, or memory only once it cannot be read or written (said once)."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._failed = False
        try:
            path = str(config.history_file())
        except OSError as exc:
            path = ""
            self._fail(exc)
        super().__init__(path)

    def _fail(self, exc: OSError) -> None:
        if not self._failed:
            self._failed = True
            where = exc.filename or config.config_dir()
            self._warn(
                f"Warning: history is not saved ({where}: {exc.strerror or exc}); going on without it."
            )

    def load_history_strings(self) -> Iterable[str]:
        if self._failed:
            return []
        try:
            return list(super().load_history_strings())
        except OSError as exc:
            self._fail(exc)
            return []

    def store_string(self, string: str) -> None:
        if self._failed:
            return
        try:
            super().store_string(string)
        except OSError as exc:
            self._fail(exc)


def _prompt_session(session: Session, refresher: Refresher) -> PromptSession[str]:
    return PromptSession(
        lexer=PygmentsLexer(PartiQLLexer),
        completer=PartiQLCompleter(refresher.metadata),
        complete_while_typing=True,
        history=_History(session.printer.note),
        key_bindings=shell_bindings(),
        multiline=True,
        prompt_continuation=_continuation,
        bottom_toolbar=lambda: toolbar(session),
        style=_style(),
        include_default_pygments_style=False,
    )


def prompt_message(session: Session, name: str) -> FormattedText:
    parts = [("class:prompt", name)]
    if session.in_transaction:
        parts.append(("class:transaction", " (transaction)"))
    parts.append(("class:prompt", "> "))
    return FormattedText(parts)


def _continuation(width: int, line_number: int, is_soft_wrap: int) -> str:
    return "...> ".rjust(width)


def toolbar(session: Session) -> FormattedText:
    s = session.settings
    mode = "transaction open: COMMIT or ABORT" if session.in_transaction else "auto-commit"
    text = (
        f" {mode} | format {s.format}{' (expanded)' if s.expanded else ''} | "
        "\\? help  Tab complete  Esc+Enter new line  Ctrl-R search  Ctrl-D quit "
    )
    return FormattedText([("class:bottom-toolbar", text)])


def banner(session: Session, name: str) -> str:
    tables = [r["name"] for r in explore.table_rows(session.db) if r["status"] == "ACTIVE"]
    listed = f"{len(tables)} table{'s' if len(tables) != 1 else ''}"
    if tables:
        listed += ": " + ", ".join(tables[:8]) + (", …" if len(tables) > 8 else "")
    return (
        f"ledger {ledger.__version__} on {name} ({listed})\n"
        "Type \\? for help, \\dt for tables, \\d TABLE to look at one, \\q to quit.\n"
        "A statement runs on ; or on Enter once its brackets and quotes are closed."
    )


def _style() -> BaseStyle:
    try:
        pygments_style = style_from_pygments_cls(get_style_by_name(config.style_name()))
    except ClassNotFound:
        pygments_style = style_from_pygments_cls(get_style_by_name("default"))
    return merge_styles([pygments_style, Style.from_dict(_UI_STYLE)])
