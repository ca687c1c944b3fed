"""The ledger's one exception tree.

PEP 249 names, so callers can catch "any ledger error" (``ledger.Error``) or one kind.
QLDB's error kinds map onto it: BadRequest -> ProgrammingError (ParseError for syntax),
OccConflict -> OccConflictError, LimitExceeded -> LimitExceededError, InvalidSession
(expired transaction) -> TransactionExpiredError.  Tamper evidence is a
VerificationError, deliberately *not* an IntegrityError.
"""

from __future__ import annotations

from collections.abc import Sequence


class Error(Exception):
    """Root of every error the ledger raises on purpose."""


class InterfaceError(Error):
    """The API was misused (e.g. a closed connection or transaction)."""


class DatabaseError(Error):
    """An error in the database itself."""


class DataError(DatabaseError):
    """A value cannot be stored or processed (bad Ion, wrong type of parameter)."""


class OperationalError(DatabaseError):
    """The database could not do what was asked for reasons outside the statement."""


class OccConflictError(OperationalError):
    """Something this transaction read changed before it committed; nothing was written."""


class TransactionExpiredError(OperationalError):
    """The transaction outlived its timeout (QLDB's InvalidSession)."""


class LimitExceededError(OperationalError):
    """A configured limit (documents, sizes, tables, indexes) would be exceeded."""


class StorageError(OperationalError):
    """The storage layer failed (disk full, unreadable file, foreign format)."""


class ConnectionLostError(StorageError):
    """The database server went away during a transaction that had not committed
    (a restart or a failover): nothing of it was written, so it can be run again."""


class IntegrityError(DatabaseError):
    """A constraint of the data model was violated."""


class InternalError(DatabaseError):
    """A bug: the ledger reached a state it believes impossible."""


class ProgrammingError(DatabaseError):
    """The statement is wrong: unknown table, field or function, bad arguments.

    ``line`` and ``column`` (1-based) point into ``statement`` when known.
    """

    def __init__(
        self,
        message: str,
        *,
        statement: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.statement = statement
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        if self.line is None or self.statement is None:
            return self.message
        return f"{self.message} at line {self.line}, column {self.column}\n{self.caret()}"

    def caret(self) -> str:
        """The offending line of the statement with a ``^`` under the column."""
        if self.statement is None or self.line is None:
            return ""
        lines = self.statement.splitlines() or [""]
        text = lines[min(self.line, len(lines)) - 1]
        col = max((self.column or 1) - 1, 0)
        return f"  {text}\n  {' ' * col}^"


class ParseError(ProgrammingError):
    """The statement is not valid PartiQL; ``expected`` lists tokens that would fit."""

    def __init__(
        self,
        message: str,
        *,
        statement: str | None = None,
        line: int | None = None,
        column: int | None = None,
        expected: Sequence[str] = (),
    ) -> None:
        self.expected = tuple(expected)
        super().__init__(message, statement=statement, line=line, column=column)

    def _render(self) -> str:
        text = super()._render()
        if self.expected:
            text += "\n  expected one of: " + ", ".join(self.expected)
        return text


class NotSupportedError(DatabaseError):
    """Valid PartiQL the ledger does not implement; the message names the feature."""


class VerificationError(Error):
    """The journal, a proof or a digest does not check out.

    Carries what was expected, what was computed, and where (block, document).
    """

    def __init__(
        self,
        message: str,
        *,
        expected: object = None,
        computed: object = None,
        block: int | None = None,
        document: str | None = None,
    ) -> None:
        self.message = message
        self.expected = expected
        self.computed = computed
        self.block = block
        self.document = document
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.block is not None:
            where.append(f"block {self.block}")
        if self.document is not None:
            where.append(f"document {self.document}")
        text = self.message + (f" ({', '.join(where)})" if where else "")
        if self.expected is not None or self.computed is not None:
            text += f": expected {_show(self.expected)}, computed {_show(self.computed)}"
        return text


def _show(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return repr(value)


__all__ = [
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "OccConflictError",
    "TransactionExpiredError",
    "LimitExceededError",
    "StorageError",
    "ConnectionLostError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "ParseError",
    "NotSupportedError",
    "VerificationError",
]
