"""An in-memory QueryContext: dict-backed tables, indexes by sorted scan, a history list.

Every read and write is recorded in ``calls`` so tests can assert which access path
the planner took (``ctx.calls_named("index_range")``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyDict, IonPySymbol

from ledger.errors import ProgrammingError
from ledger.ion import new_id, timestamp_ms
from ledger.query.context import (
    ACTIVE,
    INACTIVE,
    BlockAddress,
    Bound,
    DocRecord,
    IndexInfo,
    TableInfo,
)
from ledger.query.values import instant

STRAND = "strand0000000000000000"
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@dataclass
class _Doc:
    data: Any
    version: int
    seq: int
    tx_time: dt.datetime


@dataclass
class FakeContext:
    """A QueryContext over Python dicts; each write is its own 'block'."""

    tables_by_id: dict[str, TableInfo] = field(default_factory=dict)
    docs: dict[str, dict[str, _Doc]] = field(default_factory=dict)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    seq: int = 0
    clock: dt.datetime = EPOCH
    tx_id: str = "txid000000000000000000"

    # -- helpers for tests
    def calls_named(self, name: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == name]

    def reset_calls(self) -> None:
        self.calls.clear()

    def _tick(self) -> tuple[int, dt.datetime]:
        self.seq += 1
        self.clock = self.clock + dt.timedelta(seconds=1)
        return self.seq, self.clock

    # -- QueryContext
    @property
    def transaction_id(self) -> str:
        return self.tx_id

    def now(self) -> dt.datetime:
        return timestamp_ms(self.clock)

    def table(self, name: str) -> TableInfo | None:
        for table in self.tables_by_id.values():
            if table.name == name and table.status == ACTIVE:
                return table
        return None

    def table_by_id(self, table_id: str) -> TableInfo | None:
        return self.tables_by_id.get(table_id)

    def tables(self) -> list[TableInfo]:
        return list(self.tables_by_id.values())

    def _record(self, table_id: str, doc_id: str, doc: _Doc) -> DocRecord:
        return DocRecord(
            table_id,
            doc_id,
            doc.version,
            BlockAddress(STRAND, doc.seq),
            bytes(32),
            timestamp_ms(doc.tx_time),
            self.tx_id,
            _load=lambda: doc.data,
        )

    def scan(self, table_id: str) -> Iterator[DocRecord]:
        self.calls.append(("scan", table_id))
        for doc_id, doc in list(self.docs.get(table_id, {}).items()):
            yield self._record(table_id, doc_id, doc)

    def get(self, table_id: str, doc_id: str) -> DocRecord | None:
        self.calls.append(("get", table_id, doc_id))
        doc = self.docs.get(table_id, {}).get(doc_id)
        return None if doc is None else self._record(table_id, doc_id, doc)

    def index_range(
        self,
        table_id: str,
        field_name: str,
        low: Bound | None,
        high: Bound | None,
        *,
        descending: bool = False,
    ) -> Iterator[DocRecord]:
        self.calls.append(("index_range", table_id, field_name, low, high, descending))
        table = self.tables_by_id[table_id]
        assert table.index_on(field_name) is not None, "index_range on an unindexed field"
        entries = []
        everything = low is None and high is None  # the contract: lacking the field first
        for doc_id, doc in self.docs.get(table_id, {}).items():
            if field_name in doc.data:
                key = _index_key(doc.data[field_name])
                if _in_range(key, low, high):
                    entries.append((key, doc_id, doc))
            elif everything:
                entries.append(((-1,), doc_id, doc))
        entries.sort(key=lambda e: (e[0], e[1]), reverse=descending)
        for _, doc_id, doc in entries:
            yield self._record(table_id, doc_id, doc)

    def history(
        self,
        table_id: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
        doc_id: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        self.calls.append(("history", table_id, start, end, doc_id))
        for revision in self.revisions:
            if revision["_table"] != table_id:
                continue
            if doc_id is not None and revision["metadata"]["id"] != doc_id:
                continue
            if end is not None and revision["metadata"]["txTime"] > end:
                continue
            if start is not None and revision["_until"] is not None and revision["_until"] < start:
                continue
            yield {k: v for k, v in revision.items() if not k.startswith("_")}

    # -- writes
    def create_table(self, name: str, tags: Any = None) -> str:
        self.calls.append(("create_table", name))
        if self.table(name) is not None:
            raise ProgrammingError(f"table {name} already exists")
        table_id = new_id()
        self.tables_by_id[table_id] = TableInfo(table_id, name, ACTIVE, (), tags)
        self.docs[table_id] = {}
        return table_id

    def drop_table(self, table_id: str) -> None:
        self.calls.append(("drop_table", table_id))
        self.tables_by_id[table_id] = replace(self.tables_by_id[table_id], status=INACTIVE)

    def undrop_table(self, table_id: str) -> None:
        self.calls.append(("undrop_table", table_id))
        self.tables_by_id[table_id] = replace(self.tables_by_id[table_id], status=ACTIVE)

    def create_index(self, table_id: str, field_name: str) -> str:
        self.calls.append(("create_index", table_id, field_name))
        table = self.tables_by_id[table_id]
        index_id = new_id()
        indexes = table.indexes + (IndexInfo(index_id, field_name),)
        self.tables_by_id[table_id] = replace(table, indexes=indexes)
        return index_id

    def drop_index(self, table_id: str, index_id: str) -> None:
        self.calls.append(("drop_index", table_id, index_id))
        table = self.tables_by_id[table_id]
        indexes = tuple(i for i in table.indexes if i.index_id != index_id)
        self.tables_by_id[table_id] = replace(table, indexes=indexes)

    def _revise(self, table_id: str, doc_id: str, data: Any, version: int) -> None:
        seq, when = self._tick()
        for earlier in self.revisions:
            if earlier["metadata"]["id"] == doc_id and earlier["_until"] is None:
                earlier["_until"] = when
        revision: dict[str, Any] = {
            "blockAddress": {"strandId": STRAND, "sequenceNo": seq},
            "hash": bytes(32),
            "metadata": {
                "id": doc_id,
                "version": version,
                "txTime": timestamp_ms(when),
                "txId": self.tx_id,
            },
            "_table": table_id,
            "_until": None,
        }
        if data is not None:
            revision["data"] = data
        self.revisions.append(revision)
        if data is not None:
            self.docs[table_id][doc_id] = _Doc(data, version, seq, when)

    def insert(self, table_id: str, data: Any, source: Any = None) -> str:
        self.calls.append(("insert", table_id, data))
        assert isinstance(data, Mapping), f"insert got {type(data).__name__}, want a struct"
        doc_id = new_id()
        self._revise(table_id, doc_id, data, 0)
        return doc_id

    def update(self, table_id: str, doc_id: str, data: Any) -> None:
        self.calls.append(("update", table_id, doc_id, data))
        assert isinstance(data, IonPyDict), f"update got {type(data).__name__}, want IonPyDict"
        old = self.docs[table_id][doc_id]
        self._revise(table_id, doc_id, data, old.version + 1)

    def delete(self, table_id: str, doc_id: str) -> None:
        self.calls.append(("delete", table_id, doc_id))
        old = self.docs[table_id].pop(doc_id)
        self._revise(table_id, doc_id, None, old.version + 1)

    def redact(self, block_address: BlockAddress, table_id: str, doc_id: str) -> dict[str, Any]:
        self.calls.append(("redact", block_address, table_id, doc_id))
        for revision in self.revisions:
            if (
                revision["metadata"]["id"] == doc_id
                and revision["blockAddress"]["sequenceNo"] == block_address.sequence_no
            ):
                revision.pop("data", None)
                revision["dataHash"] = bytes(32)
                return {
                    "tableId": table_id,
                    "documentId": doc_id,
                    "version": revision["metadata"]["version"],
                }
        raise ProgrammingError("no such revision")


def _index_key(value: Any) -> tuple[Any, ...]:
    """Order for the fake index: type class first, numbers by value."""
    ion_type = getattr(value, "ion_type", None)
    if value is None or type(value).__name__ == "IonPyNull":
        return (0,)
    if isinstance(value, bool) or ion_type is IonType.BOOL:
        return (1, bool(value))
    if isinstance(value, int | float | Decimal):
        return (2, value)
    if isinstance(value, dt.datetime):
        return (3, instant(value))
    if isinstance(value, IonPySymbol):
        return (5, value.text)
    if isinstance(value, str):
        return (4, value)
    return (9, repr(value))


def _in_range(key: tuple[Any, ...], low: Bound | None, high: Bound | None) -> bool:
    for bound, sign in ((low, 1), (high, -1)):
        if bound is None:
            continue
        other = _index_key(bound.value)
        if other[0] != key[0]:
            return False
        if sign == 1 and (key < other or (key == other and not bound.inclusive)):
            return False
        if sign == -1 and (key > other or (key == other and not bound.inclusive)):
            return False
    return True


def py(value: Any) -> Any:
    """An Ion result as plain Python (structs -> dicts, nulls -> None) for assertions."""
    if value is None or type(value).__name__ == "IonPyNull":
        return None
    if isinstance(value, IonPySymbol):
        return value.text
    if hasattr(value, "items") and hasattr(value, "keys"):
        return {str(k): py(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [py(v) for v in value]
    if getattr(value, "ion_type", None) is IonType.BOOL:
        return bool(value)
    return value
