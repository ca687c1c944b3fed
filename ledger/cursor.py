"""The result of a statement: the rows it returned, fully read (as QLDB drivers buffer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Cursor:
    """Rows of Ion values (amazon.ion simpleion types, which subclass the builtins)."""

    def __init__(self, rows: list[Any], statement: str = "") -> None:
        self._rows = rows
        self._next = 0
        self.statement = statement

    def __iter__(self) -> Iterator[Any]:
        while self._next < len(self._rows):
            row = self._rows[self._next]
            self._next += 1
            yield row

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
