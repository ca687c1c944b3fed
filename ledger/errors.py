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


class BadRecordError(DataError):
    """A record of a file being loaded (``ledger load``) cannot become a document.

    ``file`` and ``line`` say where it starts (for Ion, ``line`` is 0 and ``value`` is
    its position in the stream); ``record`` is its number among every record read.
    """

    def __init__(self, file: str, line: int, reason: str, *, value: int = 0) -> None:
        where = f"{file} line {line}" if line else f"{file} value {value}"
        super().__init__(f"{where}: {reason}")
        self.file, self.line, self.value, self.reason = file, line, value, reason
        self.record = 0  # set by the loader


class OperationalError(DatabaseError):
    """The database could not do what was asked for reasons outside the statement."""


class OccConflictError(OperationalError):
    """Something this transaction read changed before it committed; nothing was written."""


class DriverClosedError(InterfaceError):
    """A ``ledger.qldb.QldbDriver`` was used after ``close()`` (pyqldb's name)."""


class LambdaAbortedError(Error):
    """The transaction function called ``executor.abort()``: nothing was written."""


class ResultClosedError(InterfaceError):
    """A streamed result was read after its transaction ended (pyqldb's name); the
    cursor ``execute_lambda`` returns is buffered and stays readable."""


class TransactionExpiredError(OperationalError):
    """The transaction outlived its timeout (QLDB's InvalidSession)."""


class LimitExceededError(OperationalError):
    """A configured limit (documents, sizes, tables, indexes) would be exceeded."""


class StorageError(OperationalError):
    """The storage layer failed (disk full, unreadable file, foreign format)."""


class NoLedgerError(StorageError):
    """There is no ledger at the path, and the caller asked to open one, not create it
    (``connect(path, create=False)``, or a read-only open of a missing path)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no ledger at {path}")
        self.path = path


class StreamError(OperationalError):
    """A journal stream could not deliver its records (its sink refused or is unreachable)."""


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
            likely = sorted(self.expected, key=_likelihood)[:SHOWN_EXPECTED]
            more = len(self.expected) - len(likely)
            text += "\n  expected one of: " + ", ".join(likely) + (f", … ({more} more)" if more else "")
        return text


SHOWN_EXPECTED = 6
# What a person most likely meant at a syntax error, most likely first; the rest follow
# in their own order.
_LIKELY = [
    "end of statement", ";", ")", "]", "}", ">>", ",", "FROM", "WHERE", "AS", "=", "identifier",
    "string", "number", "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "VALUE", "INTO", "SET",
    "BY", "AND", "OR", "IN", "ON", "TABLE", "INDEX", "(", "{", "<<", "?", "Ion literal",
]


def _likelihood(token: str) -> int:
    return _LIKELY.index(token) if token in _LIKELY else len(_LIKELY)


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


class ServiceError(Error):
    """A request to ``ledger serve`` refused with one of QLDB's wire errors.

    ``code`` is QLDB's exception name (``BadRequestException``, ``InvalidSessionException``,
    ``ResourceNotFoundException``...), ``status`` its HTTP status, and ``fields`` the
    modeled members the error carries beside its message (``ResourceType``...).
    """

    def __init__(
        self, code: str, message: str, status: int = 400, **fields: str
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields
        super().__init__(f"{code}: {message}")


def _show(value: object) -> str:
    """Hashes in base64, as QLDB's API and every ledger command show them."""
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    return repr(value)


__all__ = [
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "OccConflictError",
    "DriverClosedError",
    "LambdaAbortedError",
    "ResultClosedError",
    "TransactionExpiredError",
    "LimitExceededError",
    "StorageError",
    "StreamError",
    "ConnectionLostError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "ParseError",
    "NotSupportedError",
    "VerificationError",
    "ServiceError",
]
