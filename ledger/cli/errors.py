"""Exit codes, and ledger errors turned into messages a person can act on.

Every command reports a ``ledger.Error`` as ``Error: <message>`` on stderr, never as a
traceback: a ParseError's message already carries the caret under the column.
Optimistic-concurrency conflicts and expired transactions get an explanation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ledger.errors import Error, OccConflictError, TransactionExpiredError, VerificationError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # click's own code for usage errors
EXIT_VERIFY = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)

OCC_HINT = (
    "Another transaction committed a change to something this transaction read, "
    "after it began (an optimistic concurrency conflict). Nothing was written and "
    "the transaction is over: run it again."
)
EXPIRED_HINT = "The transaction was aborted; nothing was written. Start a new one."


def explain(exc: BaseException) -> str:
    """The message to show for ``exc``, with a hint for errors that need one."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OccConflictError):
        return f"{text}\n{OCC_HINT}"
    if isinstance(exc, TransactionExpiredError):
        return f"{text}\n{EXPIRED_HINT}"
    return text


class CliFailure(click.ClickException):
    """A failure already explained; click prints ``Error: …`` and exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # click declares it a ClassVar


@contextmanager
def reported() -> Iterator[None]:
    """Turn ledger and file errors inside the block into CliFailure (exit 1, or 3)."""
    try:
        yield
    except VerificationError as exc:
        raise CliFailure(explain(exc), EXIT_VERIFY) from exc
    except ShellError as exc:
        raise CliFailure(str(exc)) from exc
    except Error as exc:
        raise CliFailure(explain(exc)) from exc
    except OSError as exc:
        raise CliFailure(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc


class ShellError(Exception):
    """A problem the shell itself found in what was typed (not a ledger error)."""
