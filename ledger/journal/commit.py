"""Commit: check a transaction's read set and append its block, in one write.

Inside one LMDB write transaction: the optimistic-concurrency check (nothing the
transaction read changed after its snapshot), then the block (QLDB's format and
hashes), the ledger-tree nodes, the summary tables, indexes, history and catalog.
Either all of it is written, durably, or none of it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from ledger import ion
from ledger.errors import LimitExceededError, OccConflictError
from ledger.hashing import block_hashes, ion_hash, revision_hash, tree
from ledger.journal import blocks, catalog
from ledger.journal.journal import Journal, NodeStore
from ledger.journal.staged import Pending, index_value, ms_timestamp
from ledger.journal.staged import Staged as Transaction  # what commit reads of one
from ledger.query.context import BlockAddress, TableInfo
from ledger.storage import layout
from ledger.storage.kv import WriteTxn


@dataclass(slots=True)
class _Revision:
    """One revision of the block being built, with what the summary needs."""

    table: TableInfo
    doc_id: str
    version: int
    data: Any  # None for a deleted document's final revision
    encoded: bytes
    data_hash: bytes  # b"" with no data
    base: layout.DocHeader | None
    hash: bytes
    statements: list[int]
    metadata: dict[str, Any]  # hashed into ``hash``, and the envelope's metadata
    is_catalog: bool = False


@dataclass
class _Plan:
    """Everything one transaction's commit will write, computed before writing any of it."""

    tx: Transaction
    seq: int
    moment_ms: int
    address: BlockAddress
    tables: dict[str, TableInfo]
    revisions: list[_Revision]
    block: dict[str, Any]  # the envelope: revisions without their data (stored apart)
    redacted: list[tuple[int, bytes]]  # (seq, rewritten block bytes)


def commit(journal: Journal, tx: Transaction) -> BlockAddress:
    """Write ``tx`` as the next block; raises OccConflictError and writes nothing.

    The store may write it together with other threads' commits (group commit)."""
    return journal.store.write_grouped(
        lambda w: plan_commit(journal, w, tx), lambda w, plan: apply_plan(journal, w, plan)
    )


def plan_commit(journal: Journal, w: WriteTxn, tx: Transaction) -> _Plan:
    """Check and build ``tx``'s block against the write snapshot; writes nothing.

    Raises the ledger's errors (OccConflictError, LimitExceededError, ...) for this
    transaction alone, so a group of commits can go on without it.
    """
    tip = journal.tip(w)
    check_conflicts(journal, w, tx, tip.seq)
    seq = tip.seq + 1
    moment_ms = max(ion.epoch_ms(), tip.timestamp_ms)
    tx_time = ms_timestamp(moment_ms)
    address = journal.address(seq)
    # only DDL needs the catalog; decoding it on every commit cost ~11% of G1's CPU
    tables = journal.tables(w, cache=False) if tx.catalog_changes else {}
    revisions = _revisions(w, tx, tables, tx_time)
    block = _block(journal, tx, revisions, address, tx_time, tip.block_hash)
    _check_size(journal, revisions)
    redacted = _redacted_blocks(journal, w, tx)
    return _Plan(tx, seq, moment_ms, address, tables, revisions, block, redacted)


def apply_plan(journal: Journal, w: WriteTxn, plan: _Plan) -> BlockAddress:
    seq, ms, tx = plan.seq, plan.moment_ms, plan.tx
    _write_block(w, seq, plan, ms)
    for old_seq, raw in plan.redacted:
        w.put("blocks", layout.block_key(old_seq), raw)
        journal.forget_block(old_seq)
    _apply_catalog(journal, w, tx, plan.tables, seq)
    tx_id = tx.id
    for idx, rev in enumerate(plan.revisions):
        if rev.is_catalog:
            _record_revision(w, rev, seq, idx, ms)
        else:
            _apply_revision(w, rev, seq, ms, tx_id, idx)
    for table_id in {rev.table.table_id for rev in plan.revisions}:
        w.put("table_seq", layout.ident(table_id), layout.u64(seq))
    return plan.address


# -- optimistic concurrency ---------------------------------------------------------------
def check_conflicts(journal: Journal, w: WriteTxn, tx: Transaction, tip_seq: int) -> None:
    if tip_seq == tx.snapshot_seq:
        return  # nothing committed since the snapshot
    reads = tx.reads
    if (reads.catalog or tx.catalog_changes) and journal.catalog_seq(w) != tx.snapshot_catalog_seq:
        raise _conflict(tx, "the catalog (a table or index) changed")
    for (table_id, doc_id), seen in reads.docs.items():
        value = w.get("docs", layout.doc_key(table_id, doc_id))
        now = -1 if value is None else layout.decode_doc_header(value).seq
        if now != seen:
            raise _conflict(tx, f"document {doc_id} changed")
    for table_id in reads.tables:
        changed = w.get("table_seq", layout.ident(table_id))
        if changed is not None and layout.read_u64(changed) > tx.snapshot_seq:
            raise _conflict(tx, f"table {table_id} changed after it was scanned")
    for table_id, start, stop in reads.ranges:
        _check_range(w, tx, table_id, start, stop)


def _check_range(w: WriteTxn, tx: Transaction, table_id: str, start: bytes, stop: bytes | None) -> None:
    """A phantom check: no document in the index range was written after the snapshot."""
    for key, _ in w.range("index", start, stop):
        doc_id = layout.index_doc_id(key)
        value = w.get("docs", layout.doc_key(table_id, doc_id))
        if value is not None and layout.decode_doc_header(value).seq > tx.snapshot_seq:
            raise _conflict(tx, f"document {doc_id} entered a range this transaction read")


def _conflict(tx: Transaction, why: str) -> OccConflictError:
    return OccConflictError(
        f"transaction {tx.id} conflicts with a concurrent commit: {why}; "
        "nothing was written (retry the transaction)"
    )


# -- building the block ---------------------------------------------------------------------
def _revisions(
    w: WriteTxn, tx: Transaction, tables: dict[str, TableInfo], tx_time: _dt.datetime
) -> list[_Revision]:
    out = []
    tx_id = tx.id
    for table_id, info in tx.catalog_changes.items():
        previous = tables.get(table_id)
        version = 0 if previous is None else _catalog_version(w, table_id) + 1
        record = catalog.to_record(info)
        out.append(_make(tx_id, info, table_id, version, record, ion.dumps(record),
                         ion_hash(record), None, tx_time, tx.catalog_statements[table_id],
                         is_catalog=True))
    infos: dict[str, TableInfo] = {}  # one catalog lookup per table, not per document
    for pending in tx.docs.values():
        table = infos.get(pending.table_id)
        if table is None:
            table = infos[pending.table_id] = _table_of(tx, pending.table_id)
        out.append(_from_pending(tx_id, table, pending, tx_time))
    return out


def _table_of(tx: Transaction, table_id: str) -> TableInfo:
    table = tx.table_by_id(table_id)
    assert table is not None
    return table


def _from_pending(tx_id: str, info: TableInfo, p: Pending, tx_time: _dt.datetime) -> _Revision:
    return _make(tx_id, info, p.doc_id, p.version, p.data, p.encoded, p.data_hash, p.base, tx_time,
                 p.statements)


def _make(
    tx_id: str,
    info: TableInfo,
    doc_id: str,
    version: int,
    data: Any,
    encoded: bytes,
    data_hash: bytes,
    base: layout.DocHeader | None,
    tx_time: _dt.datetime,
    statements: list[int],
    *,
    is_catalog: bool = False,
) -> _Revision:
    metadata = {"id": doc_id, "version": version, "txTime": tx_time, "txId": tx_id}
    digest = revision_hash(metadata, data_hash=data_hash)
    return _Revision(info, doc_id, version, data, encoded, data_hash, base, digest, statements,
                     metadata, is_catalog)


def _catalog_version(w: WriteTxn, table_id: str) -> int:
    """The newest version of a table's catalog document (its revision count - 1)."""
    for key, _ in w.prefix("revisions", layout.revision_prefix(table_id), reverse=True):
        return layout.read_revision_key(key)[1]
    return -1


def _block(
    journal: Journal,
    tx: Transaction,
    revisions: list[_Revision],
    address: BlockAddress,
    tx_time: _dt.datetime,
    previous_hash: bytes,
) -> dict[str, Any]:
    info = transaction_info(tx, revisions)
    redaction = redaction_info(journal, tx)
    hashes = block_hashes(info, [r.hash for r in revisions], previous_hash, redaction)
    address_ion = address.to_ion()  # one dict for the block and each revision: same bytes
    block: dict[str, Any] = {
        "blockAddress": address_ion,
        "transactionId": tx.id,
        "blockTimestamp": tx_time,
        "blockHash": hashes.block_hash,
        "entriesHash": hashes.entries_hash,
    }
    if previous_hash:
        block["previousBlockHash"] = previous_hash
    block["entriesHashList"] = hashes.entries_hash_list
    block["transactionInfo"] = info
    if redaction is not None:
        block["redactionInfo"] = redaction
    block["revisions"] = [_revision_envelope(r, address_ion) for r in revisions]
    return block


def transaction_info(tx: Transaction, revisions: list[_Revision]) -> dict[str, Any]:
    statements = [
        {
            "statement": s.text,
            "startTime": ms_timestamp(s.start_ms),
            "statementDigest": s.take_digest(),
        }
        for s in tx.statements
    ]
    documents = {
        r.doc_id: {
            "tableName": catalog.CATALOG_TABLE_NAME if r.is_catalog else r.table.name,
            "tableId": catalog.CATALOG_TABLE_ID if r.is_catalog else r.table.table_id,
            "statements": r.statements,
        }
        for r in revisions
    }
    return {"statements": statements, "documents": documents}


def redaction_info(journal: Journal, tx: Transaction) -> dict[str, Any] | None:
    if not tx.redactions:
        return None
    return {"revisions": [r.to_ion(journal.strand_id) for r in tx.redactions]}


def _revision_envelope(r: _Revision, address_ion: dict[str, Any]) -> dict[str, Any]:
    """A revision without its data: the block stores the data's bytes after the envelope
    (journal/blocks.py), so each document is encoded once.  Its metadata is the dict
    its hash was computed from (id, version, txTime, txId)."""
    return {"blockAddress": address_ion, "hash": r.hash, "metadata": r.metadata}


def _check_size(journal: Journal, revisions: list[_Revision]) -> None:
    size = sum(len(r.encoded) for r in revisions)
    if size > journal.limits.transaction_size:
        raise LimitExceededError(
            f"transaction writes {size} bytes of documents; the limit is {journal.limits.transaction_size}"
        )


# -- writing the summary ----------------------------------------------------------------------
def _write_block(w: WriteTxn, seq: int, plan: _Plan, moment_ms: int) -> None:
    parts = [(i, r.encoded) for i, r in enumerate(plan.revisions) if r.data is not None]
    w.put("blocks", layout.block_key(seq), layout.encode_block(ion.dumps(plan.block), parts))
    tree.append_leaf(NodeStore(w), seq, plan.block["blockHash"])
    w.put("times", layout.times_key(moment_ms, seq), b"")


def _redacted_blocks(journal: Journal, w: WriteTxn, tx: Transaction) -> list[tuple[int, bytes]]:
    """The blocks holding revisions to redact, rewritten with dataHash in place of data.

    The blocks' hashes do not change: a revision hash covers H(data), which stays.
    """
    rewritten: dict[int, Any] = {}
    for r in tx.redactions:
        block = rewritten.get(r.seq) or journal.load_block(w, r.seq)
        revision = block["revisions"][r.index]
        if "data" not in revision:
            raise OccConflictError(f"revision {r.version} of document {r.doc_id} was redacted concurrently")
        block["revisions"][r.index] = {
            "blockAddress": revision["blockAddress"],
            "hash": revision["hash"],
            "dataHash": ion_hash(revision["data"]),
            "metadata": revision["metadata"],
        }
        rewritten[r.seq] = block
    return [(seq, blocks.encode(block)) for seq, block in rewritten.items()]


def _apply_catalog(
    journal: Journal, w: WriteTxn, tx: Transaction, tables: dict[str, TableInfo], seq: int
) -> None:
    if not tx.catalog_changes:
        return
    for table_id, info in tx.catalog_changes.items():
        before = tables.get(table_id)
        w.put("tables", layout.ident(table_id), catalog.encode(info))
        _sync_indexes(w, before, info)
    Journal.set_catalog_seq(w, seq)


def _sync_indexes(w: WriteTxn, before: TableInfo | None, after: TableInfo) -> None:
    """Build indexes the DDL created (from committed documents); purge dropped ones."""
    old = {ix.index_id for ix in before.indexes} if before else set()
    new = {ix.index_id for ix in after.indexes}
    for index in after.indexes:
        if index.index_id in old:
            continue
        for key, value in w.prefix("docs", layout.doc_prefix(after.table_id)):
            data = ion.loads(blocks.row_data(w, value))
            doc_id = layout.doc_id_of(key)
            w.put("index", layout.index_key(index.index_id, index_value(data, index.field), doc_id), b"")
    for index_id in old - new:
        for key, _ in list(w.prefix("index", layout.ident(index_id))):
            w.delete("index", key)


def _apply_revision(w: WriteTxn, rev: _Revision, seq: int, ms: int, tx_id: str, idx: int) -> None:
    table_id, doc_id = rev.table.table_id, rev.doc_id
    key = layout.doc_key(table_id, doc_id)
    # a document this transaction created (no base revision) has no record to replace
    old = None if rev.base is None else w.get("docs", key)
    if old is not None and rev.table.indexes:
        old_data = ion.loads(blocks.row_data(w, old))
        for index in rev.table.indexes:
            w.delete("index", layout.index_key(index.index_id, index_value(old_data, index.field), doc_id))
    if rev.data is None:
        if old is not None:
            w.delete("docs", key)
    else:
        header = layout.DocHeader(rev.version, seq, ms, rev.hash, tx_id)
        w.put("docs", key, layout.encode_doc(header, idx))
        for index in rev.table.indexes:
            w.put("index", layout.index_key(index.index_id, index_value(rev.data, index.field), doc_id), b"")
    _record_revision(w, rev, seq, idx, ms)


def _record_revision(w: WriteTxn, rev: _Revision, seq: int, idx: int, ms: int) -> None:
    table_id = catalog.CATALOG_TABLE_ID if rev.is_catalog else rev.table.table_id
    w.put("revisions", layout.revision_key(rev.doc_id, rev.version), layout.location(seq, idx, ms))
    w.put("history", layout.history_key(table_id, seq, idx),
          layout.history_value(rev.doc_id, rev.version))

