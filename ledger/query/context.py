"""The contract between the query engine and whatever runs it.

The query layer never imports the journal or storage: it evaluates statements against
a ``QueryContext``, which a ledger transaction implements (ledger/journal/transaction.py)
and tests may fake.  Reads go through the context so that the transaction can record
its read set (for optimistic concurrency) and overlay its own uncommitted writes; DML
and DDL call the context's write methods, which the transaction turns into a block.

Index access is only an access path: the query engine always re-applies its predicate
to what an index returns, so a context may return a superset.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.ion import timestamp_of_ms

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"


@dataclass(frozen=True)
class IndexInfo:
    index_id: str
    field: str  # one top-level field name, as QLDB allows
    status: str = "ONLINE"

    @property
    def expr(self) -> str:
        """QLDB's rendering of the indexed path in information_schema: ``[field]``."""
        return f"[{self.field}]"


@dataclass(frozen=True)
class TableInfo:
    table_id: str
    name: str
    status: str = ACTIVE  # ACTIVE | INACTIVE (dropped)
    indexes: tuple[IndexInfo, ...] = ()
    tags: Any = None  # Ion struct from CREATE TABLE ... WITH (aws_tags = `{...}`), or None

    def index_on(self, field_name: str) -> IndexInfo | None:
        for index in self.indexes:
            if index.field == field_name:
                return index
        return None


@dataclass(frozen=True)
class BlockAddress:
    strand_id: str
    sequence_no: int

    def to_ion(self) -> dict[str, Any]:
        return {"strandId": self.strand_id, "sequenceNo": self.sequence_no}


class DocRecord:
    """The current (latest, non-deleted) revision of one document.

    ``data`` is decoded lazily (an index lookup that returns one document decodes one),
    and so is ``tx_time`` when given as milliseconds since the epoch: a lookup that
    projects only data never builds the timestamp.
    """

    __slots__ = ("table_id", "doc_id", "version", "block_address", "hash", "_tx_time",
                 "tx_id", "_load", "_data", "_loaded")

    def __init__(
        self,
        table_id: str,
        doc_id: str,
        version: int,
        block_address: BlockAddress,
        hash: bytes,
        tx_time: _dt.datetime | int,  # an Ion Timestamp (millisecond precision) or its ms
        tx_id: str,
        _load: Callable[[], Any] | None = None,
        _data: Any = None,
        _loaded: bool = False,
    ) -> None:
        self.table_id = table_id
        self.doc_id = doc_id
        self.version = version
        self.block_address = block_address
        self.hash = hash
        self._tx_time = tx_time
        self.tx_id = tx_id
        self._load = _load
        self._data = _data
        self._loaded = _loaded or _load is None

    def __repr__(self) -> str:
        return f"DocRecord({self.table_id!r}, {self.doc_id!r}, version={self.version})"

    @property
    def tx_time(self) -> _dt.datetime:
        moment = self._tx_time
        if isinstance(moment, int):
            moment = self._tx_time = timestamp_of_ms(moment)
        return moment

    @property
    def data(self) -> Any:
        """The user data (an Ion struct)."""
        if not self._loaded:
            assert self._load is not None
            self._data = self._load()
            self._loaded = True
        return self._data

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.doc_id,
            "version": self.version,
            "txTime": self.tx_time,
            "txId": self.tx_id,
        }

    def committed(self) -> dict[str, Any]:
        """The committed-view shape: ``{blockAddress, hash, data, metadata}``."""
        return {
            "blockAddress": self.block_address.to_ion(),
            "hash": self.hash,
            "data": self.data,
            "metadata": self.metadata(),
        }


@dataclass(frozen=True)
class Bound:
    """One end of an index range: an Ion value and whether it is included."""

    value: Any
    inclusive: bool = True


class QueryContext(Protocol):
    """What a statement may read and write. Implemented by a ledger transaction."""

    @property
    def transaction_id(self) -> str: ...

    def now(self) -> _dt.datetime:
        """The transaction's clock (UTCNOW), a UTC Ion timestamp."""
        ...

    # -- catalog ---------------------------------------------------------------
    def table(self, name: str) -> TableInfo | None:
        """The ACTIVE table with this name, or None."""
        ...

    def table_by_id(self, table_id: str) -> TableInfo | None:
        """The table with this id, ACTIVE or INACTIVE, or None."""
        ...

    def tables(self) -> list[TableInfo]:
        """Every table, ACTIVE and INACTIVE (information_schema.user_tables)."""
        ...

    # -- reads (each is recorded in the transaction's read set) -----------------
    def scan(self, table_id: str) -> Iterator[DocRecord]:
        """Every current document of the table (a full scan: conflicts with any write)."""
        ...

    def get(self, table_id: str, doc_id: str) -> DocRecord | None:
        """One current document by id (``BY id`` lookups), or None."""
        ...

    def index_range(
        self,
        table_id: str,
        field_name: str,
        low: Bound | None,
        high: Bound | None,
        *,
        descending: bool = False,
    ) -> Iterator[DocRecord]:
        """Documents whose indexed field lies between the bounds (None = unbounded),
        in index order. Equality is ``low == high`` with both inclusive. Numbers of
        different Ion types (int, decimal, float) compare by value; other types sort
        by type first, so a range over values of one type returns only that type.
        With both bounds None every document is returned, those lacking the field
        first, then nulls.  A context whose index gives strings and symbols one
        rank says so with ``text_index_includes_symbols = True``."""
        ...

    def history(
        self,
        table_id: str,
        start: _dt.datetime | None,
        end: _dt.datetime | None,
        doc_id: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Committed-view shaped revisions of the table (deleted documents' final
        revisions too: they have no ``data``; redacted ones have ``dataHash``),
        active in the inclusive window; ``doc_id`` narrows to one document."""
        ...

    # -- writes (buffered by the transaction; visible to its later reads) ------
    def create_table(self, name: str, tags: Any = None) -> str: ...

    def drop_table(self, table_id: str) -> None: ...

    def undrop_table(self, table_id: str) -> None: ...

    def create_index(self, table_id: str, field_name: str) -> str: ...

    def drop_index(self, table_id: str, index_id: str) -> None: ...

    def insert(self, table_id: str, data: Any, source: Any = None) -> str:
        """Insert a new document (an Ion struct); returns its new id.

        ``source``: the value ``data`` was converted from (a statement parameter, say),
        equal to it as Ion: the context may reuse work done for one for the other."""
        ...

    def update(self, table_id: str, doc_id: str, data: Any) -> None:
        """Write a new revision of a current document with the whole new data."""
        ...

    def delete(self, table_id: str, doc_id: str) -> None: ...

    def redact(self, block_address: BlockAddress, table_id: str, doc_id: str) -> dict[str, Any]:
        """Redact a non-latest revision; returns ``{tableId, documentId, version}``."""
        ...
