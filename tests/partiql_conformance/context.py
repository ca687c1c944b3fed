"""A QueryContext with no tables: the suite's data arrives as global bindings.

The conformance tests never read or write a table, so every table lookup answers
"none" and a write is refused; reads of a table cannot happen (there is none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ledger.errors import NotSupportedError
from ledger.query.context import BlockAddress, Bound, DocRecord, TableInfo

EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class SuiteContext:
    """Tables: none.  Time: a fixed instant.  Writes: refused."""

    transaction_id = "conformance00000000000"

    def now(self) -> dt.datetime:
        return EPOCH

    def table(self, name: str) -> TableInfo | None:
        return None

    def table_by_id(self, table_id: str) -> TableInfo | None:
        return None

    def tables(self) -> list[TableInfo]:
        return []

    def scan(self, table_id: str) -> Iterator[DocRecord]:
        return iter(())

    def get(self, table_id: str, doc_id: str) -> DocRecord | None:
        return None

    def index_range(
        self,
        table_id: str,
        field_name: str,
        low: Bound | None,
        high: Bound | None,
        *,
        descending: bool = False,
    ) -> Iterator[DocRecord]:
        return iter(())

    def history(
        self, table_id: str, start: Any, end: Any, doc_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        return iter(())

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("the conformance suite's context has no tables to change")

    create_table = drop_table = undrop_table = create_index = drop_index = _refuse
    insert = update = delete = _refuse

    def redact(self, block_address: BlockAddress, table_id: str, doc_id: str) -> dict[str, Any]:
        return self._refuse()
