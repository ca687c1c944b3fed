"""One conversation with a ledger: read → classify → execute → render.

The shell (prompt_toolkit) and the non-interactive runner (``-c``, ``-f``, stdin)
both hand text to a ``Session``; it splits the text into statements, classifies each,
runs it in auto-commit mode or in the open transaction, and renders the result
through the current format.  Errors become messages, never tracebacks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.cli import hints, meta
from ledger.cli.buffer import decode_input, split_located
from ledger.cli.classify import ABORT, BEGIN, COMMIT, META, Command, classify
from ledger.cli.errors import EXIT_ERROR, EXIT_OK, EXIT_VERIFY, ShellError, explain
from ledger.cli.output import HUMAN_FORMATS, render, summary
from ledger.cli.printer import Printer
from ledger.database import Ledger
from ledger.errors import Error, ProgrammingError, VerificationError
from ledger.journal.transaction import Transaction


@dataclass
class Settings:
    format: str = "ion"
    timing: bool = False  # the "3 documents in bag, 1.2 ms" line
    expanded: bool = False  # \x: vertical records for the human formats
    yes: bool = False  # run UPDATE/DELETE without WHERE without asking


class Session:
    def __init__(
        self,
        db: Ledger,
        settings: Settings | None = None,
        printer: Printer | None = None,
        *,
        confirm: Callable[[str], bool] | None = None,
        on_write: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or Settings()
        self.printer = printer or Printer()
        self.confirm = confirm  # None: cannot ask (refuse unbounded writes unless --yes)
        self.on_write = on_write or (lambda: None)
        self.tx: Transaction | None = None
        self._tx_wrote = False
        self.finished = False  # \q
        self.status = EXIT_OK  # the worst exit code so far
        self.location: str | None = None  # "FILE line N" while a script runs

    @property
    def in_transaction(self) -> bool:
        return self.tx is not None

    # -- read ---------------------------------------------------------------------------
    def run(self, text: str, *, stop_on_error: bool = True, source: str | None = None) -> bool:
        """Run every statement and meta-command in ``text``; False if one failed.
        With ``source`` (a file name), errors say which line of it failed."""
        ok = True
        outer = self.location
        try:
            for piece, line in split_located(text):
                if self.finished:
                    break
                self.location = f"{source} line {line}" if source else outer
                if not self.run_one(piece):
                    ok = False
                    if stop_on_error:
                        break
        finally:
            self.location = outer
        return ok

    def run_file(self, path: str) -> bool:
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise ShellError(f"cannot read {path}: {exc.strerror or exc}") from exc
        return self.run(decode_input(data, path), source=path)

    # -- classify and execute -----------------------------------------------------------
    def run_one(self, text: str, params: Sequence[Any] = ()) -> bool:
        """Run one piece (a statement or meta-command); report failure, never raise."""
        try:
            mistaken = hints.mistaken_command(text)
            if mistaken:
                raise ShellError(mistaken)
            self.dispatch(classify(text), params)
            return True
        except (Error, ShellError) as exc:
            self.fail(
                explain(exc), EXIT_VERIFY if isinstance(exc, VerificationError) else EXIT_ERROR
            )
            if isinstance(exc, ProgrammingError):
                self._hint(hints.error_hint(str(exc), text, self._table_names()))
        except Exception as exc:  # a bug below us: say so, keep the shell alive
            if os.environ.get("LEDGER_DEBUG"):
                raise
            self.fail(f"internal error: {type(exc).__name__}: {exc}")
        self._forget_finished_transaction()
        if self.tx is not None:
            self.printer.note("The transaction is still open: go on, COMMIT, or ABORT.")
        return False

    def dispatch(self, command: Command, params: Sequence[Any] = ()) -> None:
        if command.kind == META:
            self._meta(command)
        elif command.kind == BEGIN:
            self.begin()
        elif command.kind == COMMIT:
            self.commit()
        elif command.kind == ABORT:
            self.abort()
        else:
            self.statement(command, params)

    def _meta(self, command: Command) -> None:
        entry = meta.lookup(command.name)
        if entry is None:
            raise ShellError(f"unknown command \\{command.name} (\\? lists the commands)")
        entry.run(self, command.args)

    def statement(self, command: Command, params: Sequence[Any] = ()) -> None:
        if command.unbounded and not self._confirmed(command):
            self.printer.note("Cancelled: nothing was run.")
            return
        started = time.perf_counter()
        rows = self._execute(command.text, params)
        elapsed = time.perf_counter() - started
        self.show(rows)
        if not rows and command.verb == "SELECT":
            for hint in hints.empty_result_hints(command.text, self.db):
                self._hint(hint)
        if self.settings.timing:
            self.printer.note(summary(len(rows), elapsed))
        if command.writes:
            self._wrote()

    def _execute(self, text: str, params: Sequence[Any]) -> list[Any]:
        if self.tx is not None:
            return self.tx.execute(text, *params).fetchall()
        # auto-commit: a conflict with a concurrent writer is retried, as QLDB drivers do
        return self.db.execute_lambda(lambda tx: tx.execute(text, *params).fetchall())

    def _confirmed(self, command: Command) -> bool:
        if self.settings.yes:
            return True
        what = (
            f"{command.verb} without WHERE changes every document in {command.table or 'the table'}"
        )
        if self.confirm is None:
            raise ShellError(f"refusing to run: {what}. Add a WHERE clause, or pass --yes")
        return self.confirm(f"{what}. Run it?")

    def _wrote(self) -> None:
        if self.tx is not None:
            self._tx_wrote = True
        else:
            self.on_write()

    # -- transactions -------------------------------------------------------------------
    def begin(self) -> None:
        if self.tx is not None:
            raise ShellError("a transaction is already open: COMMIT or ABORT it first")
        self.tx = self.db.transaction()
        self._tx_wrote = False
        self.printer.note("Transaction started. COMMIT to write its changes, ABORT to drop them.")

    def commit(self) -> None:
        tx, wrote = self._take_transaction()
        tx.commit()
        self.printer.note("Transaction committed.")
        if wrote:
            self.on_write()

    def abort(self) -> None:
        tx, _ = self._take_transaction()
        tx.abort()
        self.printer.note("Transaction aborted: nothing was written.")

    def _take_transaction(self) -> tuple[Transaction, bool]:
        if self.tx is None:
            raise ShellError(
                "no transaction is open (each statement commits on its own; BEGIN starts a transaction)"
            )
        tx, wrote = self.tx, self._tx_wrote
        self.tx, self._tx_wrote = None, False
        return tx, wrote

    def _forget_finished_transaction(self) -> None:
        """An expired transaction aborts itself; stop sending statements to it."""
        if self.tx is not None and self.tx.state != "open":
            self.tx = None
            self._tx_wrote = False

    def end(self) -> bool:
        """Leaving: abort an open transaction. True if there was one."""
        if self.tx is None:
            return False
        self.tx.abort()
        self.tx = None
        return True

    # -- render -------------------------------------------------------------------------
    def show(self, rows: Sequence[Any], human: str | None = None) -> None:
        """Render ``rows``; ``human`` overrides the layout for the human formats."""
        fmt = self.settings.format
        if fmt in HUMAN_FORMATS:
            fmt = "vertical" if self.settings.expanded else (human or fmt)
        self.printer.data(render(rows, fmt), fmt)

    def _hint(self, hint: str | None) -> None:
        if hint:
            self.printer.note(f"Hint: {hint}")

    def _table_names(self) -> list[str]:
        try:
            rows = self.db.execute(
                "SELECT VALUE t.name FROM information_schema.user_tables AS t "
                "WHERE t.status = 'ACTIVE'"
            ).fetchall()
        except Error:
            return []
        return [str(r) for r in rows]

    def fail(self, message: str, code: int = EXIT_ERROR) -> None:
        if self.location:
            message = f"{self.location}: {message}"
        self.printer.error(message)
        self.status = max(self.status, code)
