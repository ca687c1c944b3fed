"""pyqldb's cursors: a statement's result inside the transaction, and a buffered copy."""

from __future__ import annotations

from typing import Any

from ledger.cursor import Cursor
from ledger.errors import ResultClosedError
from ledger.journal.transaction import Transaction


class StreamCursor:
    """What ``executor.execute_statement`` returns: an iterator over the rows, readable
    while its transaction is open (afterwards ResultClosedError, as pyqldb's)."""

    def __init__(self, cursor: Cursor, transaction: Transaction) -> None:
        self._cursor = cursor
        self._transaction = transaction

    def __iter__(self) -> StreamCursor:
        return self

    def __next__(self) -> Any:
        if self._transaction.state != "open":
            raise ResultClosedError(
                f"the result of {self._cursor.statement!r} was read after transaction "
                f"{self._transaction.id} ended; return the cursor from the function to keep it"
            )
        return next(self._cursor)

    def get_consumed_ios(self) -> dict[str, int]:
        return self._cursor.get_consumed_ios()

    def get_timing_information(self) -> dict[str, int]:
        return self._cursor.get_timing_information()


class BufferedCursor:
    """Every remaining row of a cursor, held in memory: what ``execute_lambda`` returns
    in place of a StreamCursor, readable after the commit."""

    def __init__(self, cursor: StreamCursor | Cursor) -> None:
        self._values = list(cursor)
        self._iterator = iter(self._values)
        self._consumed_ios = cursor.get_consumed_ios()
        self._timing_information = cursor.get_timing_information()

    def __iter__(self) -> BufferedCursor:
        return self

    def __next__(self) -> Any:
        return next(self._iterator)

    def get_consumed_ios(self) -> dict[str, int]:
        return self._consumed_ios

    def get_timing_information(self) -> dict[str, int]:
        return self._timing_information
