"""The per-block work of ``verify``, fast: decode once, hash once, no Ion wrapper types.

``check_block`` decodes a stored block with amazon.ion's C reader in its
``MAY_BE_BARE`` value model (plain str, int, bytes, list, Timestamp where the Ion
type survives; IonPy types only for structs, annotations, typed nulls and sexps),
checks everything ``check_block_contents`` checks except the chain, and hashes each
revision's metadata and data exactly once.  It returns what the summary replay needs
(a ``BlockFacts``), or None when the block is not of the ordinary shape the ledger
writes, or fails any check: the caller then runs the original, slower checks on that
block, which name the problem exactly.  So the fast path only has to *accept* no more
than the original does and derive the same facts; it never words an error.

A document's row names its revision's place in the block (its data are stored there,
once), so the replay compares the row's bytes with the header and place the block
implies instead of decoding and hashing the data again.  ``check_chunk is the entry point for
worker processes; ``Pipeline`` feeds chunks of blocks to them in key order with a
bounded number in flight, so memory stays flat.
"""

from __future__ import annotations

import datetime as _dt
import multiprocessing
import os
import struct
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from decimal import Decimal
from typing import Any, NamedTuple

from amazon.ion import simpleion
from amazon.ion.core import Timestamp
from amazon.ion.simple_types import IonPyDict

from ledger.hashing import dot, ion_binary, ion_hash, merkle_root
from ledger.journal import blocks
from ledger.journal.catalog import CATALOG_TABLE_ID
from ledger.journal.history import to_ms
from ledger.journal.transaction import index_value
from ledger.proof.verify_parts import BLOCK_FIELDS, REVISION_FIELDS, block_ms
from ledger.storage import layout

_BARE = simpleion.IonPyValueModel.MAY_BE_BARE
_STD_DICT = simpleion.IonPyValueModel.STRUCT_AS_STD_DICT
# Bare values whose index key encodes exactly as the IonPy value's does (a bare
# SymbolToken is a tuple to keycodec, so symbols, and containers that may hold them,
# are left to the original path).
_KEY_SAFE = (str, int, float, Decimal, bytes, Timestamp, type(None))

# tableId -> (indexId, indexed field) of each index of the table, in the table's order
IndexFields = Mapping[str, tuple[tuple[str, str], ...]]


class Unusual(Exception):
    """The block is not of the shape the fast path handles: use the original checks."""


class Keys(NamedTuple):
    """The summary entries a revision implies, built where its block is checked (in a
    worker process when there are several), so that the replay only looks them up."""

    revision: bytes  # its revisions key, which is also its history entry's value
    next: bytes  # the revisions key of the document's next version
    location: bytes  # its revisions entry's value
    history: bytes  # its history key
    doc: bytes  # the document's docs key
    row: bytes  # the docs row commit writes for it
    index_keys: tuple[bytes, ...] | None  # the key of its entry in each index of its table


class RevisionFacts(NamedTuple):
    """What the replay needs of one user-table revision (opaque ones are skipped)."""

    idx: int
    doc_id: str
    version: int
    tx_id: str
    ms: int  # txTime in milliseconds
    hash: bytes
    table_id: str
    table_name: str
    has_data: bool
    has_data_hash: bool  # redacted
    index_values: tuple[bytes, ...] | None  # per index of the table; None: from the row
    keys: Keys | None  # None where layout refuses a part: the replay's own checks word it


class BlockFacts(NamedTuple):
    block_hash: bytes
    previous: bytes  # the claimed previousBlockHash, b"" for none
    ms: int  # blockTimestamp in milliseconds
    revisions: tuple[RevisionFacts, ...]


# -- one block ------------------------------------------------------------------------------
def check_block(raw: bytes, seq: int, strand: str, index_fields: IndexFields) -> BlockFacts | None:
    """The facts of a sound, ordinary block; None for anything else (see the module doc)."""
    if ion_binary.compiled:
        facts = check_block_binary(raw, seq, strand, index_fields)
        if facts is not None:
            return facts
    return check_block_decoded(raw, seq, strand, index_fields)


def check_block_decoded(
    raw: bytes, seq: int, strand: str, index_fields: IndexFields
) -> BlockFacts | None:
    """``check_block`` on values amazon.ion decodes: any block the ledger can read."""
    try:
        block, parts = blocks.envelope(raw, _loads_bare)  # data are decoded where hashed
        return _check(block, parts, seq, strand, index_fields)
    except Exception:  # noqa: BLE001 - Unusual, malformed, or bytes that break the Ion reader
        return None


def check_block_binary(
    raw: bytes, seq: int, strand: str, index_fields: IndexFields
) -> BlockFacts | None:
    """``check_block`` hashing straight from the stored Ion binary (ledger.hashing.ion_binary):
    the envelope decoded to plain values with each struct's hash, each document's data
    hashed without being decoded.  None where that cannot answer (a block stored whole,
    bytes not in canonical form, values with no plain form) or any check fails."""
    try:
        if layout.is_whole_ion_block(raw):
            return None
        envelope, parts = blocks.split(raw)
        loaded = ion_binary.loads_hashed(envelope)
        if loaded is None:
            return None
        block, hashes = loaded
        return _check_plain(block, hashes, dict(parts), seq, strand, index_fields)
    except Exception:  # noqa: BLE001 - Unusual, malformed
        return None


def _loads_bare(data: bytes) -> Any:
    return simpleion.loads(data, value_model=_BARE)


def _loads_data(data: bytes) -> Any:
    """Documents as plain dicts: they hash ~1.6x faster than IonPyDicts.  A repeated
    field name keeps only its last value, so such a document fails its hash check here
    and goes to the original checks, which keep every value."""
    return simpleion.loads(data, value_model=_BARE | _STD_DICT)


def check_chunk(
    chunk: list[tuple[int, bytes]], strand: str, index_fields: IndexFields
) -> list[BlockFacts | None]:
    """``check_block`` over consecutive blocks: one task of a worker process."""
    return [check_block(raw, seq, strand, index_fields) for seq, raw in chunk]


def _hash_fields(block: Mapping[str, Any]) -> tuple[str, list[bytes], bytes, bytes, bytes]:
    """The envelope's transaction id and hashes, each of its expected type (both
    decodings give these fields the same Python types)."""
    tx_id = block["transactionId"]
    _require(type(tx_id) is str)
    entries = block["entriesHashList"]
    _require(type(entries) is list and all(_is_hash(e) for e in entries))
    block_hash, entries_hash = block["blockHash"], block["entriesHash"]
    _require(_is_hash(block_hash) and _is_hash(entries_hash))
    previous = block.get("previousBlockHash", b"")
    _require(not ("previousBlockHash" in block and not _is_hash(previous)))
    return tx_id, entries, block_hash, entries_hash, previous


def _check(
    block: Any, parts: Mapping[int, bytes], seq: int, strand: str, index_fields: IndexFields
) -> BlockFacts:
    _require(type(block) is IonPyDict and all(k in BLOCK_FIELDS for k in block))
    _require(_is_address(block["blockAddress"], strand, seq))
    tx_id, entries, block_hash, entries_hash, previous = _hash_fields(block)
    ms = block_ms(block, seq)
    revisions = block.get("revisions", [])
    _require(type(revisions) is list and all(0 <= i < len(revisions) for i in parts))
    info = block["transactionInfo"]
    _require(ion_hash(info) in entries)
    hashes, facts = [], []
    for idx, r in enumerate(revisions):
        _require(type(r) is IonPyDict)
        if set(r) == {"hash"}:  # QLDB's opaque system revision: counted, not read
            _require(type(r["hash"]) is bytes and idx not in parts)
            hashes.append(r["hash"])
            continue
        fact = _revision(r, parts.get(idx), idx, seq, strand, tx_id, info, index_fields)
        hashes.append(fact.hash)
        facts.append(fact)
    if hashes:
        _require(merkle_root(hashes) in entries)
    if "redactionInfo" in block:
        redaction = block["redactionInfo"]
        _require(redaction is not None and ion_hash(redaction) in entries)
    _require(merkle_root(entries) == entries_hash)
    _require(dot(entries_hash, previous) == block_hash)
    return BlockFacts(block_hash, previous, ms, tuple(facts))


def _revision(
    r: IonPyDict,
    stored_data: bytes | None,  # the data's Ion binary, stored beside the envelope
    idx: int,
    seq: int,
    strand: str,
    tx_id: str,
    info: Any,
    index_fields: IndexFields,
) -> RevisionFacts:
    _require(all(k in REVISION_FIELDS for k in r))
    _require(_is_address(r["blockAddress"], strand, seq))
    claimed = r["hash"]
    _require(_is_hash(claimed))
    metadata = r["metadata"]
    _require(type(metadata) is IonPyDict)
    doc_id, version, tx_time = metadata["id"], metadata["version"], metadata["txTime"]
    _require(type(doc_id) is str and type(version) is int and version >= 0)
    _require(type(metadata["txId"]) is str and metadata["txId"] == tx_id)
    _require(isinstance(tx_time, Timestamp))
    layout.ident(doc_id)
    if stored_data is not None:
        _require("data" not in r)
        data: Any = _loads_data(stored_data)
    else:
        data = r.get("data")  # a block stored whole (format 1) holds its data
    has_data, has_data_hash = stored_data is not None or "data" in r, "dataHash" in r
    if has_data_hash:
        data_hash = r["dataHash"]
        _require(_is_hash(data_hash))
    else:
        data_hash = ion_hash(data) if has_data else b""
    _require(dot(ion_hash(metadata), data_hash) == claimed)
    document = info["documents"][doc_id]
    table_id, table_name = document["tableId"], document["tableName"]
    _require(type(table_id) is str and type(table_name) is str)
    _require(table_id != CATALOG_TABLE_ID)  # DDL: the catalog replay wants IonPy values
    data = data if has_data and not has_data_hash else None
    indexes = index_fields.get(table_id, ())
    return _facts(
        (idx, doc_id, version, tx_id, to_ms(tx_time), claimed, table_id, table_name),
        seq,
        has_data,
        has_data_hash,
        indexes,
        _index_values(data, tuple(field for _, field in indexes)),
    )


def _facts(
    ids: tuple[int, str, int, str, int, bytes, str, str],
    seq: int,
    has_data: bool,
    has_data_hash: bool,
    indexes: tuple[tuple[str, str], ...],
    index_values: tuple[bytes, ...] | None,
) -> RevisionFacts:
    """A revision's facts and its keys; ``ids`` are RevisionFacts' first eight fields."""
    idx, doc_id, version, tx_id, ms, digest, table_id, _ = ids
    try:
        entries = layout.revision_entries(doc_id, version, seq, idx, ms, digest, tx_id, table_id)
        index_keys = None
        if index_values is not None:
            index_keys = tuple(
                layout.index_key(index_id, value, doc_id)
                for (index_id, _), value in zip(indexes, index_values, strict=True)
            )
        keys: Keys | None = Keys(*entries, index_keys)
    except (ValueError, struct.error):
        keys = None
    return RevisionFacts(*ids, has_data, has_data_hash, index_values, keys)


# -- the same checks on plain values (check_block_binary) --------------------------------------
def _check_plain(
    block: Any,
    hashes: Mapping[int, bytes],
    parts: Mapping[int, bytes],
    seq: int,
    strand: str,
    index_fields: IndexFields,
) -> BlockFacts:
    """``_check`` on ``loads_hashed``'s plain values: a struct's hash is ``hashes[id(it)]``,
    and a ``datetime`` is a UTC timestamp with millisecond precision by construction."""
    _require(type(block) is dict and block.keys() <= BLOCK_FIELDS)
    address = {"strandId": strand, "sequenceNo": seq}
    _require(_is_plain_address(block["blockAddress"], strand, seq))
    tx_id, entries, block_hash, entries_hash, previous = _hash_fields(block)
    stamp = block["blockTimestamp"]
    _require(type(stamp) is _dt.datetime)
    revisions = block.get("revisions", [])
    _require(type(revisions) is list and all(0 <= i < len(revisions) for i in parts))
    info = block["transactionInfo"]
    _require(type(info) is dict and hashes[id(info)] in entries)
    documents = info["documents"]
    _require(type(documents) is dict)
    hashes_list, facts = [], []
    for idx, r in enumerate(revisions):
        _require(type(r) is dict)
        if len(r) == 1 and "hash" in r:  # QLDB's opaque system revision: counted, not read
            _require(type(r["hash"]) is bytes and idx not in parts)
            hashes_list.append(r["hash"])
            continue
        fact = _plain_revision(
            r, hashes, parts.get(idx), idx, seq, address, tx_id, documents, index_fields
        )
        hashes_list.append(fact.hash)
        facts.append(fact)
    if hashes_list:
        _require(merkle_root(hashes_list) in entries)
    if "redactionInfo" in block:
        redaction = block["redactionInfo"]
        _require(type(redaction) is dict and hashes[id(redaction)] in entries)
    _require(merkle_root(entries) == entries_hash)
    _require(dot(entries_hash, previous) == block_hash)
    return BlockFacts(block_hash, previous, to_ms(stamp), tuple(facts))


def _plain_revision(
    r: dict[str, Any],
    hashes: Mapping[int, bytes],
    stored_data: bytes | None,
    idx: int,
    seq: int,
    address: dict[str, Any],
    tx_id: str,
    documents: dict[str, Any],
    index_fields: IndexFields,
) -> RevisionFacts:
    metadata, claimed, place = r["metadata"], r["hash"], r["blockAddress"]
    if not (
        r.keys() <= _PLAIN_REVISION_FIELDS
        and type(place) is dict
        and place == address
        and type(place["sequenceNo"]) is int
        and type(claimed) is bytes
        and len(claimed) == 32
        and type(metadata) is dict
    ):
        raise Unusual
    doc_id, version, tx_time = metadata["id"], metadata["version"], metadata["txTime"]
    document = documents[doc_id]
    if not (
        type(doc_id) is str
        and type(version) is int
        and version >= 0
        and metadata["txId"] == tx_id
        and type(metadata["txId"]) is str
        and type(tx_time) is _dt.datetime
        and type(document) is dict
    ):
        raise Unusual
    table_id, table_name = document["tableId"], document["tableName"]
    if not (type(table_id) is str and type(table_name) is str and table_id != CATALOG_TABLE_ID):
        raise Unusual  # DDL: the catalog replay wants IonPy values
    layout.ident(doc_id)
    indexes = index_fields.get(table_id, ())
    has_data_hash = "dataHash" in r
    index_values = None
    if has_data_hash:
        data_hash = r["dataHash"]
        _require(_is_hash(data_hash))
    elif stored_data is not None:
        hashed = ion_binary.hash_binary(stored_data, tuple(field for _, field in indexes))
        if hashed is None:
            raise Unusual
        data_hash, values = hashed
        index_values = _plain_index_values(values)
    else:
        data_hash = b""
    _require(dot(hashes[id(metadata)], data_hash) == claimed)
    ids = (idx, doc_id, version, tx_id, to_ms(tx_time), claimed, table_id, table_name)
    return _facts(ids, seq, stored_data is not None, has_data_hash, indexes, index_values)


_PLAIN_REVISION_FIELDS = REVISION_FIELDS - {"data"}  # a block stored whole: decoded instead


def _plain_index_values(values: tuple[Any, ...]) -> tuple[bytes, ...] | None:
    """Index keys from ``hash_binary``'s field values: None marks a field not there,
    ``...`` one the replay must decode (so must every other value of no key-safe type)."""
    out = []
    for value in values:
        if value is None:
            out.append(layout.MISSING_VALUE)
        elif type(value) in _KEY_SAFE:
            out.append(layout.index_value(value))
        else:
            return None
    return tuple(out)


def _is_plain_address(value: Any, strand: str, seq: int) -> bool:
    """``_is_address`` on plain values (a repeated field has no plain form; among plain
    values only a str equals a str)."""
    return (
        type(value) is dict
        and value == {"strandId": strand, "sequenceNo": seq}
        and type(value["sequenceNo"]) is int
    )


def _index_values(data: Any, fields: Iterable[str]) -> tuple[bytes, ...] | None:
    if data is None:
        return None
    values = []
    for name in fields:
        value = data.get(name, _MISSING)
        if value is not _MISSING and type(value) not in _KEY_SAFE:
            return None
        values.append(index_value(data, name))
    return tuple(values)


_MISSING = object()


def _is_hash(value: Any) -> bool:
    return type(value) is bytes and len(value) == 32


def _is_address(value: Any, strand: str, seq: int) -> bool:
    """Exactly ``{strandId: strand, sequenceNo: seq}``: what hashes to the block's address."""
    if type(value) is not IonPyDict or value.ion_annotations or len(value) != 2:
        return False
    store = value._IonPyDict__store  # {name: [values]}: a repeated field has two values
    number, strand_id = store.get("sequenceNo"), store.get("strandId")
    return (
        number is not None
        and strand_id is not None
        and len(number) == 1
        and len(strand_id) == 1
        and type(number[0]) is int
        and type(strand_id[0]) is str
        and number[0] == seq
        and strand_id[0] == strand
    )


def _require(condition: bool) -> None:
    if not condition:
        raise Unusual


# -- many blocks, in order --------------------------------------------------------------------
CHUNK = 8  # blocks per task
IN_FLIGHT = 4  # tasks queued per worker
MIN_PARALLEL_BLOCKS = 64  # below this, starting workers costs more than it saves


def workers_for(blocks: int) -> int:
    """How many worker processes to use for ``blocks`` blocks: 0 (none) on one core, for
    small journals, or where processes cannot be forked."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 or blocks < MIN_PARALLEL_BLOCKS:
        return 0
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return min(cores or 1, 4)


def _start_method() -> str:
    """fork (instant) when this process runs one thread; forking a threaded process can
    copy a lock some other thread holds, so then forkserver (~0.3 s to start) instead."""
    if threading.active_count() == 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        return "fork"
    return "forkserver"


Checked = tuple[int, bytes, BlockFacts | None]  # (seq, stored bytes, facts or None)


class Pipeline:
    """``check_block`` over a stream of (seq, raw) in order, in worker processes or here.

    Yields (seq, raw, facts) in the order given.  At most ``workers * IN_FLIGHT``
    chunks are in flight, so memory stays flat however long the journal.
    """

    def __init__(self, strand: str, index_fields: IndexFields, workers: int) -> None:
        self.strand, self.index_fields, self.workers = strand, dict(index_fields), workers

    def run(self, blocks: Iterable[tuple[int, bytes]]) -> Generator[Checked, None, None]:
        if self.workers == 0:
            for seq, raw in blocks:
                yield seq, raw, check_block(raw, seq, self.strand, self.index_fields)
            return
        context = multiprocessing.get_context(_start_method())
        pool = ProcessPoolExecutor(self.workers, mp_context=context)
        try:
            yield from self._in_pool(pool, blocks)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _in_pool(
        self, pool: ProcessPoolExecutor, blocks: Iterable[tuple[int, bytes]]
    ) -> Iterator[Checked]:
        queued: deque[tuple[list[tuple[int, bytes]], Future[list[BlockFacts | None]]]] = deque()
        for chunk in _chunks(blocks, CHUNK):
            queued.append((chunk, pool.submit(check_chunk, chunk, self.strand, self.index_fields)))
            while len(queued) >= self.workers * IN_FLIGHT:
                yield from _done(*queued.popleft())
        while queued:
            yield from _done(*queued.popleft())


def _done(
    chunk: list[tuple[int, bytes]], future: Future[list[BlockFacts | None]]
) -> Iterator[Checked]:
    for (seq, raw), facts in zip(chunk, future.result(), strict=True):
        yield seq, raw, facts


def _chunks(items: Iterable[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
