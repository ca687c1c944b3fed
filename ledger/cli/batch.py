"""Non-interactive runs: statements from ``-c``, ``-f`` or stdin, without prompt_toolkit.

Data goes to stdout, everything else to stderr; the first failure stops the run, and
an open transaction is aborted at the end (a script must COMMIT what it wants kept).
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.cli.errors import EXIT_ERROR
from ledger.cli.session import Session


def run_batch(session: Session, texts: Iterable[str | tuple[str, str]]) -> int:
    """Run each text (or ``(text, source)``, whose errors name the line) in order; the
    exit code (0 ok, 1 error, 3 verification failed)."""
    for item in texts:
        text, source = (item, None) if isinstance(item, str) else item
        if not session.run(text, source=source) or session.finished:
            break
    had_transaction = session.end()
    if had_transaction and session.status == 0:
        session.fail(
            "the input ended inside a transaction: it was aborted and nothing was written "
            "(end it with COMMIT to keep its changes)",
            EXIT_ERROR,
        )
    elif had_transaction:
        session.printer.note("The open transaction was aborted: nothing was written.")
    return session.status
