"""A ledger transaction: one snapshot, a read set, and buffered writes.

It implements the query layer's ``QueryContext``: reads come from the LMDB snapshot
taken at BEGIN, overlaid with this transaction's own writes, and are recorded (documents
by version, scanned tables, index ranges, the catalog) so that commit can check, inside
the write transaction, that nothing read has changed since — QLDB's optimistic
concurrency.  Writes stay in memory until commit turns them into one block.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import time
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ledger import ion, query
from ledger.cursor import Cursor
from ledger.errors import (
    DataError,
    InterfaceError,
    LimitExceededError,
    ProgrammingError,
    TransactionExpiredError,
)
from ledger.hashing import KnownSerializations, ion_hash_serialization
from ledger.journal import blocks, catalog
from ledger.journal import commit as committing
from ledger.journal.history import history as _history
from ledger.journal.staged import (
    Pending,
    ReadSet,
    Redaction,
    StatementRecord,
    index_value,
    ms_timestamp,
)
from ledger.query.context import ACTIVE, INACTIVE, BlockAddress, Bound, DocRecord, TableInfo
from ledger.storage import layout
from ledger.storage.kv import ReadTxn, prefix_end

if TYPE_CHECKING:
    from ledger.journal.journal import Journal

__all__ = ["Pending", "ReadSet", "Redaction", "StatementRecord", "Transaction", "index_value",
           "ms_timestamp"]


def check_history_window(start: _dt.datetime | None, end: _dt.datetime | None) -> None:
    """QLDB refuses a history window that starts after it ends or ends in the future
    (QLDB Developer Guide, PartiQL reference, "History function")."""
    start = None if start is None else _aware(start)
    end = None if end is None else _aware(end)
    if end is not None and end > _dt.datetime.now(_dt.UTC):
        raise ProgrammingError(f"history() end time {end.isoformat()} is in the future")
    if start is not None and end is not None and start > end:
        raise ProgrammingError(
            f"history() start time {start.isoformat()} is after its end time {end.isoformat()}"
        )


def _aware(moment: _dt.datetime) -> _dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)


class Transaction:
    """Use as ``with db.transaction() as tx:``; commits on success, aborts on error."""

    # the index key codec gives strings and symbols one rank: one lookup finds both
    text_index_includes_symbols = True

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.limits = journal.limits
        self._snap: ReadTxn | None = journal.store.read()
        # the catalog's version now too: commit checks it, and it costs a read later
        self._snapshot_catalog_seq: int | None
        self._snapshot_catalog_seq, self._committed_tables = journal.tables_at(self._snap)
        self._started = time.monotonic()
        self.statements: list[StatementRecord] = []
        self.docs: dict[tuple[str, str], Pending] = {}
        self.catalog_changes: dict[str, TableInfo] = {}
        self.catalog_statements: dict[str, list[int]] = {}
        self.redactions: list[Redaction] = []
        self.reads = ReadSet()
        self.read_ios = 0  # committed documents and revisions read from storage
        self.value_model = "may_be_bare"  # or "ion_py": rows as amazon.ion's IonPy values
        self.state = "open"  # open | committed | aborted
        self.block_address: BlockAddress | None = None
        # made on first use (a read-only autocommit statement needs none of them); plain
        # attributes, not cached_property, whose lock cost ~3 us a read on every commit
        self._id: str | None = None
        self._snapshot_seq: int | None = None
        self._known_made: KnownSerializations | None = None

    @property
    def id(self) -> str:
        if self._id is None:
            self._id = ion.new_id()
        return self._id

    @property
    def _known(self) -> KnownSerializations:
        if self._known_made is None:
            self._known_made = KnownSerializations()
        return self._known_made

    @cached_property
    def _clock(self) -> _dt.datetime:
        return ion.now_ms()

    @property
    def snapshot_seq(self) -> int:
        """The sequence number of the last block in this transaction's snapshot."""
        if self._snapshot_seq is None:
            self._snapshot_seq = self.journal.tip_seq_in(self.snap)
        return self._snapshot_seq

    @property
    def snapshot_catalog_seq(self) -> int:
        if self._snapshot_catalog_seq is None:
            self._snapshot_catalog_seq = self.journal.catalog_seq(self.snap)
        return self._snapshot_catalog_seq

    # -- the public face -----------------------------------------------------------
    def execute(self, statement: str, *params: Any, mode: str = "permissive") -> Cursor:
        """Run one statement; ``mode="strict"`` makes PartiQL type errors raise
        instead of yielding MISSING."""
        self._check_open()
        if len(statement) > self.limits.statement_length:
            raise LimitExceededError(
                f"statement is {len(statement)} characters; the limit is {self.limits.statement_length}"
            )
        self.statements.append(StatementRecord(statement, tuple(params), ion.epoch_ms()))
        ios, started = self.read_ios, time.perf_counter_ns()
        try:
            rows = query.execute(self, statement, params, mode=mode)
            if self.has_writes:  # hash the parameters now: the caller may change them later
                for record in self.statements:
                    record.take_digest(self._known)
        except RecursionError:
            self.statements.pop()
            raise LimitExceededError("the statement or a parameter is nested too deeply") from None
        except BaseException:
            self.statements.pop()
            raise
        if self.value_model == "ion_py":
            rows = [ion.as_ion_py(row) for row in rows]
        elapsed_ms = (time.perf_counter_ns() - started) // 1_000_000
        return Cursor(rows, statement, read_ios=self.read_ios - ios, processing_ms=elapsed_ms)

    def commit(self) -> None:
        writes = self.has_writes
        if writes:
            self._check_open()
        elif self.state != "open":  # a read-only transaction has nothing to lose:
            self._check_open()  # its results stand however long it took
        self._release_snapshot()
        try:
            if writes:
                self.block_address = committing.commit(self.journal, self)
        except BaseException:
            self.state = "aborted"
            raise
        self.state = "committed"

    def abort(self) -> None:
        if self.state == "open":
            self.state = "aborted"
            self._release_snapshot()

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None and self.state == "open":
            self.commit()
        else:
            self.abort()

    def __del__(self) -> None:
        if getattr(self, "_snap", None) is not None:
            self._release_snapshot()

    @property
    def has_writes(self) -> bool:
        return bool(self.docs or self.catalog_changes or self.redactions)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _release_snapshot(self) -> None:
        if self._snap is not None:
            if self.docs or self.catalog_changes or self.redactions:  # has_writes: what a
                # commit checks against, read before the snapshot goes
                _ = self.snapshot_seq, self.snapshot_catalog_seq
            self._snap.close()
            self._snap = None

    def _check_open(self) -> None:
        if self.state != "open":
            raise InterfaceError(f"transaction {self.id} is already {self.state}")
        if self.elapsed > self.limits.transaction_timeout:
            self.abort()
            raise TransactionExpiredError(
                f"transaction {self.id} expired: open {self.elapsed:.1f}s, "
                f"the limit is {self.limits.transaction_timeout}s"
            )

    @property
    def snap(self) -> ReadTxn:
        if self._snap is None:
            raise InterfaceError(f"transaction {self.id} is already {self.state}")
        return self._snap

    # -- QueryContext: identity and clock --------------------------------------------
    @property
    def transaction_id(self) -> str:
        return self.id

    def now(self) -> _dt.datetime:
        return self._clock

    # -- QueryContext: catalog --------------------------------------------------------
    def _all_tables(self) -> dict[str, TableInfo]:
        self.reads.catalog = True
        if not self.catalog_changes:
            return self._committed_tables
        return {**self._committed_tables, **self.catalog_changes}

    def table(self, name: str) -> TableInfo | None:
        for info in self._all_tables().values():
            if info.name == name and info.status == ACTIVE:
                return info
        return None

    def table_by_id(self, table_id: str) -> TableInfo | None:
        return self._all_tables().get(table_id)

    def tables(self) -> list[TableInfo]:
        return list(self._all_tables().values())

    def _active_table(self, table_id: str) -> TableInfo:
        info = self.table_by_id(table_id)
        if info is None:
            raise ProgrammingError(f"no table with id {table_id!r}")
        if info.status != ACTIVE:
            raise ProgrammingError(f"table {info.name!r} ({table_id}) was dropped")
        return info

    # -- QueryContext: reads ------------------------------------------------------------
    def scan(self, table_id: str) -> Iterator[DocRecord]:
        self.reads.tables.add(table_id)
        prefix = layout.doc_prefix(table_id)
        for key, value in self.snap.prefix("docs", prefix):
            doc_id = layout.doc_id_of(key)
            pending = self.docs.get((table_id, doc_id))
            if pending is None:
                yield self._record(table_id, doc_id, value)
            elif pending.data is not None:
                yield self._pending_record(pending)
        for pending in list(self.docs.values()):
            if pending.table_id == table_id and pending.base is None and pending.data is not None:
                yield self._pending_record(pending)

    def get(self, table_id: str, doc_id: str) -> DocRecord | None:
        pending = self.docs.get((table_id, doc_id))
        if pending is not None:
            return None if pending.data is None else self._pending_record(pending)
        if len(doc_id) != layout.ID_LEN or not doc_id.isascii():
            return None
        value = self.snap.get("docs", layout.doc_key(table_id, doc_id))
        self.reads.docs[(table_id, doc_id)] = -1 if value is None else layout.decode_doc_header(value).seq
        return None if value is None else self._record(table_id, doc_id, value)

    def _header(self, table_id: str, doc_id: str) -> layout.DocHeader | None:
        value = self.snap.get("docs", layout.doc_key(table_id, doc_id))
        return None if value is None else layout.decode_doc_header(value)

    def index_range(
        self,
        table_id: str,
        field_name: str,
        low: Bound | None,
        high: Bound | None,
        *,
        descending: bool = False,
    ) -> Iterator[DocRecord]:
        info = self.table_by_id(table_id)
        index = info.index_on(field_name) if info else None
        if info is None or index is None:
            raise ProgrammingError(f"no index on {field_name!r} of table {table_id!r}")
        start, stop = key_range(index.index_id, low, high)
        self.reads.ranges.append((table_id, start, stop))
        keyed = self._committed_in_range(table_id, start, stop, descending)
        overlay = self._pending_in_range(table_id, field_name, index.index_id, start, stop)
        if overlay:
            keyed = iter(sorted([*keyed, *overlay], key=lambda kv: kv[0], reverse=descending))
        for _, record in keyed:
            yield record

    def index_equal(self, table_id: str, index_id: str, value: Any) -> list[tuple[str, Any]] | None:
        """``[(r.doc_id, r.data) for r in index_range(table_id, field, Bound(value),
        Bound(value))]`` for the index ``index_id`` (a prepared point read, which looked
        the index up when it was compiled): one cursor, no generators, no DocRecords,
        each document decoded now; the same read set and ReadIOs.  None while this
        transaction has writes of its own (``index_range`` overlays them)."""
        if self.docs:
            return None
        start, stop = point_range(index_id, value)
        reads = self.reads
        reads.ranges.append((table_id, start, stop))
        snap = self.snap
        found = []
        for key in snap.keys("index", start, stop):
            doc_id = layout.index_doc_id(key)
            row = snap.get("docs", layout.doc_key(table_id, doc_id))
            if row is None:
                continue
            self.read_ios += 1
            reads.docs[(table_id, doc_id)] = layout.doc_seq(row)
            found.append((doc_id, ion.loads_document(blocks.row_data(snap, row))))
        return found

    def catalog_token(self) -> object | None:
        """What a prepared statement compiled against this catalog may keep and compare
        (``is``) to know the catalog unchanged: the committed catalog of the snapshot, or
        None when this transaction changed the catalog.  Like a catalog lookup it enters
        the catalog into the read set.  Called by a statement ``execute`` let run (the
        transaction is open)."""
        self.reads.catalog = True
        return None if self.catalog_changes else self._committed_tables

    def _committed_in_range(
        self, table_id: str, start: bytes, stop: bytes | None, descending: bool
    ) -> Iterator[tuple[bytes, DocRecord]]:
        for key, _ in self.snap.range("index", start, stop, reverse=descending):
            doc_id = layout.index_doc_id(key)
            if (table_id, doc_id) in self.docs:
                continue  # overlaid by this transaction's own write
            value = self.snap.get("docs", layout.doc_key(table_id, doc_id))
            if value is None:
                continue
            record = self._record(table_id, doc_id, value)
            self.reads.docs[(table_id, doc_id)] = record.block_address.sequence_no
            yield key, record

    def _pending_in_range(
        self, table_id: str, field_name: str, index_id: str, start: bytes, stop: bytes | None
    ) -> list[tuple[bytes, DocRecord]]:
        found = []
        for pending in self.docs.values():
            if pending.table_id != table_id or pending.data is None:
                continue
            key = layout.index_key(index_id, index_value(pending.data, field_name), pending.doc_id)
            if key >= start and (stop is None or key < stop):
                found.append((key, self._pending_record(pending)))
        return found

    def history(
        self,
        table_id: str,
        start: _dt.datetime | None,
        end: _dt.datetime | None,
        doc_id: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        check_history_window(start, end)
        for revision in _history(self.journal, self.snap, table_id, start, end, doc_id):
            self.read_ios += 1
            yield revision

    def _record(self, table_id: str, doc_id: str, value: bytes) -> DocRecord:
        self.read_ios += 1
        header = layout.decode_doc_header(value)
        snap = self.snap
        return DocRecord(
            table_id=table_id,
            doc_id=doc_id,
            version=header.version,
            block_address=self.journal.address(header.seq),
            hash=header.hash,
            tx_time=header.tx_time_ms,
            tx_id=header.tx_id,
            _load=lambda: ion.loads_document(blocks.row_data(snap, value)),
        )

    def _pending_record(self, pending: Pending) -> DocRecord:
        return DocRecord(
            table_id=pending.table_id,
            doc_id=pending.doc_id,
            version=pending.version,
            block_address=BlockAddress(self.journal.strand_id, -1),
            hash=b"",
            tx_time=self._clock,
            tx_id=self.id,
            _data=pending.data,
            _loaded=True,
        )

    # -- QueryContext: DDL ------------------------------------------------------------------
    def _change_table(self, info: TableInfo) -> None:
        self.catalog_changes[info.table_id] = info
        _mark(self.catalog_statements.setdefault(info.table_id, []), len(self.statements) - 1)

    def _check_active_limit(self) -> None:
        active = sum(1 for t in self._all_tables().values() if t.status == ACTIVE)
        if active >= self.limits.active_tables:
            raise LimitExceededError(
                f"a ledger may have {self.limits.active_tables} active tables; it has {active}"
            )

    def create_table(self, name: str, tags: Any = None) -> str:
        catalog.check_table_name(name)
        if self.table(name) is not None:
            raise ProgrammingError(f"a table named {name!r} already exists")
        self._check_active_limit()
        info = catalog.new_table(name, tags)
        self._change_table(info)
        return info.table_id

    def drop_table(self, table_id: str) -> None:
        info = self._active_table(table_id)
        self._change_table(catalog.with_status(info, INACTIVE))

    def undrop_table(self, table_id: str) -> None:
        info = self.table_by_id(table_id)
        if info is None:
            raise ProgrammingError(f"no table with id {table_id!r}")
        if info.status == ACTIVE:
            raise ProgrammingError(f"table {info.name!r} ({table_id}) is active: nothing to undrop")
        if self.table(info.name) is not None:
            raise ProgrammingError(
                f"cannot undrop {info.name!r}: an active table already has that name"
            )
        self._check_active_limit()
        self._change_table(catalog.with_status(info, ACTIVE))

    def create_index(self, table_id: str, field_name: str) -> str:
        info = self._active_table(table_id)
        if not field_name:
            raise ProgrammingError("an index needs a field name")
        if info.index_on(field_name) is not None:
            raise ProgrammingError(f"table {info.name!r} already has an index on {field_name!r}")
        if len(info.indexes) >= self.limits.indexes_per_table:
            raise LimitExceededError(
                f"table {info.name!r} has {len(info.indexes)} indexes; "
                f"the limit is {self.limits.indexes_per_table}"
            )
        changed = catalog.with_index(info, field_name)
        self._change_table(changed)
        return changed.indexes[-1].index_id

    def drop_index(self, table_id: str, index_id: str) -> None:
        info = self._active_table(table_id)
        if not any(ix.index_id == index_id for ix in info.indexes):
            raise ProgrammingError(f"table {info.name!r} has no index with id {index_id!r}")
        self._change_table(catalog.without_index(info, index_id))

    # -- QueryContext: DML ------------------------------------------------------------------
    def insert(self, table_id: str, data: Any, source: Any = None) -> str:
        self._active_table(table_id)
        doc_id = ion.new_id()
        self._write(Pending(table_id, doc_id, 0, data, *self._encode(data, source), None))
        return doc_id

    def update(self, table_id: str, doc_id: str, data: Any) -> None:
        self._active_table(table_id)
        current = self._existing(table_id, doc_id)
        if isinstance(current, Pending):
            current.data = data
            current.encoded, current.data_hash = self._encode(data)
            self._mark(current)
            return
        self._write(Pending(table_id, doc_id, current.version + 1, data, *self._encode(data), current))

    def delete(self, table_id: str, doc_id: str) -> None:
        self._active_table(table_id)
        current = self._existing(table_id, doc_id)
        if isinstance(current, Pending):
            current.data, current.encoded, current.data_hash = None, b"", b""
            self._mark(current)
            return
        self._write(Pending(table_id, doc_id, current.version + 1, None, b"", b"", current))

    def redact(self, block_address: BlockAddress, table_id: str, doc_id: str) -> dict[str, Any]:
        """Mark a non-latest revision for redaction; commit removes its data."""
        if block_address.strand_id != self.journal.strand_id:
            raise ProgrammingError(
                f"block address strand {block_address.strand_id!r} is not this ledger's "
                f"({self.journal.strand_id!r})"
            )
        seq = block_address.sequence_no
        if not 0 <= seq <= self.snapshot_seq:
            raise ProgrammingError(f"no block with sequenceNo {seq}")
        block = self.journal.load_block(self.snap, seq)
        index, revision = _find_revision(block, doc_id, seq)
        owner = block["transactionInfo"]["documents"][doc_id]["tableId"]
        if owner != table_id:
            raise ProgrammingError(f"document {doc_id} belongs to table {owner}, not {table_id}")
        version = int(revision["metadata"]["version"])
        if "dataHash" in revision or any(r.seq == seq and r.index == index for r in self.redactions):
            raise ProgrammingError(f"revision {version} of document {doc_id} is already redacted")
        if "data" not in revision:
            raise ProgrammingError(f"revision {version} of document {doc_id} has no data (a deletion)")
        following = self.snap.get("revisions", layout.revision_key(doc_id, version + 1))
        self.reads.docs[(table_id, doc_id)] = self._header_seq(table_id, doc_id)
        if following is None:
            raise ProgrammingError(
                f"revision {version} of document {doc_id} is its latest: only earlier "
                "revisions can be redacted (update or delete the document first)"
            )
        self.redactions.append(Redaction(seq, index, table_id, doc_id, version))
        return {"tableId": table_id, "documentId": doc_id, "version": version}

    def _header_seq(self, table_id: str, doc_id: str) -> int:
        header = self._header(table_id, doc_id)
        return -1 if header is None else header.seq

    def _existing(self, table_id: str, doc_id: str) -> Pending | layout.DocHeader:
        pending = self.docs.get((table_id, doc_id))
        if pending is not None:
            if pending.data is None:
                raise ProgrammingError(f"document {doc_id} was deleted in this transaction")
            return pending
        header = self._header(table_id, doc_id)
        self.reads.docs[(table_id, doc_id)] = -1 if header is None else header.seq
        if header is None:
            raise ProgrammingError(f"no document {doc_id} in table {table_id}")
        return header

    def _encode(self, data: Any, source: Any = None) -> tuple[bytes, bytes]:
        """The document's Ion binary and its hash, both now: later changes to ``data``
        cannot reach the journal.  The hash's input is kept for ``source`` (the
        parameter ``data`` came from), which the statement digest hashes too."""
        if type(data) is not dict and (  # a plain dict (what DML stores) is a struct
            ion.ion_type_of(data) is not ion.IonType.STRUCT or ion.is_null(data)
        ):
            raise DataError(f"a document must be a struct, got {type(data).__name__}")
        encoded = ion.dumps_storable(data)  # check_storable, then dumps
        if len(encoded) > self.limits.document_size:
            raise LimitExceededError(
                f"document is {len(encoded)} bytes of Ion; the limit is {self.limits.document_size}"
            )
        serialization = ion_hash_serialization(data)
        if source is not None:
            self._known.add(source, serialization)
        return encoded, hashlib.sha256(serialization).digest()

    def _write(self, pending: Pending) -> None:
        if len(self.docs) >= self.limits.documents_per_transaction:
            raise LimitExceededError(
                f"a transaction may write {self.limits.documents_per_transaction} documents; "
                "this statement would write more"
            )
        self.docs[(pending.table_id, pending.doc_id)] = pending
        self._mark(pending)

    def _mark(self, pending: Pending) -> None:
        _mark(pending.statements, len(self.statements) - 1)


# -- helpers shared with commit and history --------------------------------------------------
def _find_revision(block: Any, doc_id: str, seq: int) -> tuple[int, Any]:
    for index, revision in enumerate(block.get("revisions") or ()):
        if revision["metadata"]["id"] == doc_id:
            return index, revision
    raise ProgrammingError(f"block {seq} holds no revision of document {doc_id}")


def _mark(statements: list[int], index: int) -> None:
    """Note that statement ``index`` touched a document (-1: called without a statement)."""
    if index >= 0 and (not statements or statements[-1] != index):
        statements.append(index)


_AFTER_VALUE = b"\xff" * (layout.ID_LEN + 1)  # past every doc id that follows a value


def point_range(index_id: str, value: Any) -> tuple[bytes, bytes | None]:
    """``key_range(index_id, Bound(value), Bound(value))``, the value encoded once."""
    encoded = layout.index_value(value)
    start = layout.ident(index_id) + encoded
    if len(encoded) >= layout.MAX_INDEX_VALUE:
        return start, prefix_end(start)
    return start, start + _AFTER_VALUE


def key_range(index_id: str, low: Bound | None, high: Bound | None) -> tuple[bytes, bytes | None]:
    """Index keys ``[start, stop)`` covering the bounds (a superset when truncated)."""
    prefix = layout.ident(index_id)
    after_value = _AFTER_VALUE
    if low is None:
        start = prefix
    else:
        enc = layout.index_value(low.value)
        truncated = len(enc) >= layout.MAX_INDEX_VALUE
        start = prefix + enc if (low.inclusive or truncated) else prefix + enc + after_value
    if high is None:
        return start, prefix_end(prefix)
    enc = layout.index_value(high.value)
    if len(enc) >= layout.MAX_INDEX_VALUE:
        return start, prefix_end(prefix + enc)
    return start, prefix + enc + after_value if high.inclusive else prefix + enc

