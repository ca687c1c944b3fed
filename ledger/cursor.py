"""The result of a statement: the rows it returned, fully read (as QLDB drivers buffer)."""

from __future__ import annotations

from typing import Any


class Cursor:
    """Rows of Ion values (amazon.ion simpleion types, which subclass the builtins).

    An iterator, as pyqldb's cursors are: ``next(cursor)`` gives the next row, and
    iterating again continues where the last read stopped.
    """

    def __init__(
        self,
        rows: list[Any],
        statement: str = "",
        *,
        read_ios: int = 0,
        processing_ms: int = 0,
    ) -> None:
        self._rows = rows
        self._next = 0
        self.statement = statement
        self._read_ios = read_ios
        self._processing_ms = processing_ms

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> Any:
        if self._next >= len(self._rows):
            raise StopIteration
        self._next += 1
        return self._rows[self._next - 1]

    def get_consumed_ios(self) -> dict[str, int]:
        """``{"ReadIOs": n}``: the committed documents and revisions the statement read
        from storage (its own transaction's pending writes cost none), as QLDB counted."""
        return {"ReadIOs": self._read_ios}

    def get_timing_information(self) -> dict[str, int]:
        """``{"ProcessingTimeMilliseconds": n}``: the time the statement took to run."""
        return {"ProcessingTimeMilliseconds": self._processing_ms}

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<Cursor {len(self._rows)} row(s)>"

    @property
    def rowcount(self) -> int:
        return len(self._rows)

    def fetchone(self) -> Any | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def one(self) -> Any:
        """The single row; raises if there are none or several."""
        if len(self._rows) != 1:
            from ledger.errors import ProgrammingError

            raise ProgrammingError(f"expected exactly one row, got {len(self._rows)}")
        return self._rows[0]
