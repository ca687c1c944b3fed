"""The journal: a ledger's hash-chained blocks and the state derived from them.

``Journal`` opens (or creates) a ledger in a store, hands out transactions over
snapshots, commits them as blocks (journal/commit.py), and reads blocks, revisions and
digests back.  It is the one object that owns the store.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ledger import ion
from ledger.errors import DataError, StorageError
from ledger.hashing import tree
from ledger.journal import blocks, catalog
from ledger.journal.limits import Limits
from ledger.query.context import BlockAddress, TableInfo
from ledger.storage import layout
from ledger.storage.kv import KVStore, ReadTxn, WriteTxn

# 2: blocks store each revision's data once, after the block's envelope, and document
#    rows point at them (journal/blocks.py).  Format 1 blocks and rows stay readable; a
#    format 1 ledger opened for writing is marked 2, so older versions refuse it.
# 3: blocks may share their parts' leading bytes and store large blocks in chunks
#    (storage/layout.py, storage/lmdb_store.py); formats 1 and 2 stay readable.
FORMAT_VERSION = 3
_META_FORMAT = b"format"
_META_STRAND = b"strand"
_META_NAME = b"name"
_META_CREATED = b"created"
_META_CATALOG_SEQ = b"catalog_seq"


@dataclass(frozen=True)
class Tip:
    """The newest block: its sequence number (-1 for an empty journal) and hash."""

    seq: int
    block_hash: bytes
    timestamp_ms: int


class NodeStore:
    """The ledger tree's nodes in a store transaction (level 0 = block_hashes)."""

    def __init__(self, txn: ReadTxn) -> None:
        self._txn = txn

    def get_node(self, level: int, index: int) -> bytes | None:
        if level == 0:
            return self._txn.get("block_hashes", layout.block_key(index))
        return self._txn.get("tree", layout.tree_key(level, index))

    def put_node(self, level: int, index: int, h: bytes) -> None:
        assert isinstance(self._txn, WriteTxn)
        if level == 0:
            self._txn.put("block_hashes", layout.block_key(index), h)
        else:
            self._txn.put("tree", layout.tree_key(level, index), h)


class Journal:
    def __init__(self, store: KVStore, limits: Limits | None = None, name: str = "") -> None:
        self.store = store
        self.limits = limits or Limits()
        self._catalog_lock = threading.Lock()
        self._catalog_cache: tuple[int, dict[str, TableInfo]] | None = None
        self._blocks: OrderedDict[int, Any] = OrderedDict()
        self._blocks_lock = threading.Lock()
        self.strand_id = self._open_meta(name)

    # -- meta ------------------------------------------------------------------
    def _open_meta(self, name: str) -> str:
        txn = self.store.read()
        try:
            fmt = txn.get("meta", _META_FORMAT)
            strand = txn.get("meta", _META_STRAND)
        finally:
            txn.close()
        if fmt is None:
            if self.store.readonly:
                raise StorageError(f"{self.store.path} is not a ledger (no format record)")
            return self.store.write(lambda w: init_meta(w, name))
        version = int(fmt.decode("ascii"))
        if version > FORMAT_VERSION:
            raise StorageError(
                f"{self.store.path} has ledger format {version}; this version of ledger "
                f"reads format {FORMAT_VERSION} and older: upgrade ledger to open it"
            )
        assert strand is not None
        if version < FORMAT_VERSION and not self.store.readonly:
            self.store.write(lambda w: w.put("meta", _META_FORMAT, str(FORMAT_VERSION).encode()))
        return strand.decode("ascii")

    def meta(self) -> dict[str, str]:
        txn = self.store.read()
        try:
            return {k.decode(): v.decode() for k, v in txn.range("meta")}
        finally:
            txn.close()

    # -- tip and catalog ---------------------------------------------------------
    @staticmethod
    def tip(txn: ReadTxn) -> Tip:
        last = txn.last("block_hashes")
        if last is None:
            return Tip(-1, b"", 0)
        seq = layout.read_u64(last[0])
        last_time = txn.last("times")
        ms = layout.read_times_key(last_time[0])[0] if last_time else 0
        return Tip(seq, last[1], ms)

    @staticmethod
    def tip_seq_in(txn: ReadTxn) -> int:
        """``tip(txn).seq`` in one lookup (a transaction's snapshot needs no more)."""
        last = txn.last("block_hashes")
        return -1 if last is None else layout.read_u64(last[0])

    def tip_seq(self) -> int:
        """The newest block's sequence number now (-1 for an empty journal)."""
        txn = self.store.read()
        try:
            return self.tip(txn).seq
        finally:
            txn.close()

    def wait_for_commit(self, after_seq: int, timeout: float) -> int:
        """Block until a block after ``after_seq`` is committed (by any process) or
        ``timeout`` seconds pass; returns the tip's sequence number then.

        PostgreSQL wakes on LISTEN/NOTIFY sent by the commit; LMDB looks again every
        few milliseconds (a commit by another process cannot tell it).
        """
        deadline = time.monotonic() + timeout
        with self.store.watch() as watch:  # opened before looking: no commit is missed
            while True:
                seq = self.tip_seq()
                left = deadline - time.monotonic()
                if seq > after_seq or left <= 0:
                    return seq
                watch.wait(left)

    @staticmethod
    def catalog_seq(txn: ReadTxn) -> int:
        raw = txn.get("meta", _META_CATALOG_SEQ)
        return -1 if raw is None else layout.read_u64(raw)

    @staticmethod
    def set_catalog_seq(txn: WriteTxn, seq: int) -> None:
        txn.put("meta", _META_CATALOG_SEQ, layout.u64(seq))

    def tables(self, txn: ReadTxn, *, cache: bool = True) -> dict[str, TableInfo]:
        """Every table in the snapshot, by id (cached per catalog version).

        A write transaction passes ``cache=False``: what it sees may never commit.
        """
        return self.tables_at(txn, cache=cache)[1]

    def tables_at(self, txn: ReadTxn, *, cache: bool = True) -> tuple[int, dict[str, TableInfo]]:
        """``(catalog_seq(txn), tables(txn))`` in one read of the catalog's version."""
        seq = self.catalog_seq(txn)
        cached = self._catalog_cache
        if cache and cached is not None and cached[0] == seq:
            return cached
        tables = {k.decode("ascii"): catalog.decode(k.decode("ascii"), v) for k, v in txn.range("tables")}
        if cache:
            with self._catalog_lock:
                self._catalog_cache = (seq, tables)
        return seq, tables

    # -- blocks ------------------------------------------------------------------
    def block_bytes(self, txn: ReadTxn, seq: int) -> bytes:
        raw = txn.get("blocks", layout.block_key(seq))
        if raw is None:
            raise DataError(f"no block with sequenceNo {seq}")
        return raw

    def block(self, txn: ReadTxn, seq: int) -> Any:
        """The decoded block (cached: blocks never change, except by redaction)."""
        with self._blocks_lock:
            hit = self._blocks.get(seq)
            if hit is not None:
                self._blocks.move_to_end(seq)
                return hit
        value = self.load_block(txn, seq)
        with self._blocks_lock:
            self._blocks[seq] = value
            if len(self._blocks) > 256:
                self._blocks.popitem(last=False)
        return value

    def load_block(self, txn: ReadTxn, seq: int) -> Any:
        """A fresh copy of the block (the caller may change it), in the value model query
        results use (ion.loads_document): ~40% faster to decode than all-IonPy values."""
        return blocks.decode(self.block_bytes(txn, seq), ion.loads_document)

    def load_envelope(self, txn: ReadTxn, seq: int) -> tuple[Any, dict[int, bytes]]:
        """``blocks.envelope`` of a stored block in load_block's value model: for readers
        of one revision, who decode only its data (``blocks.revision``)."""
        return blocks.envelope(self.block_bytes(txn, seq), ion.loads_document)

    def forget_block(self, seq: int) -> None:
        with self._blocks_lock:
            self._blocks.pop(seq, None)

    def address(self, seq: int) -> BlockAddress:
        return BlockAddress(self.strand_id, seq)

    def digest(self, txn: ReadTxn, tip_seq: int | None = None) -> tuple[bytes, int]:
        """The ledger digest (merkle root over blockHashes) at a tip, in O(log n) reads."""
        seq = self.tip(txn).seq if tip_seq is None else tip_seq
        if seq < 0:
            return b"", -1
        return tree.root(NodeStore(txn), seq + 1), seq


def init_meta(w: WriteTxn, name: str, strand_id: str | None = None) -> str:
    """Make the store a ledger (format, strand, name); an import passes its strand id."""
    existing = w.get("meta", _META_STRAND)
    if existing is not None:  # another process created it first
        return existing.decode("ascii")
    strand = strand_id or ion.new_id()
    w.put("meta", _META_FORMAT, str(FORMAT_VERSION).encode())
    w.put("meta", _META_STRAND, strand.encode())
    w.put("meta", _META_NAME, name.encode())
    w.put("meta", _META_CREATED, _dt.datetime.now(_dt.UTC).isoformat().encode())
    return strand
