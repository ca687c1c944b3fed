"""Reading a block's parts for verification: the checks of one block on its own.

Shared by ``verify`` (a ledger), ``verify_blocks`` (its fast path) and ``export``
(``verify-export`` and ``import``): a block's address, timestamp and revisions as the
summary derives them, and every check of the fields no hash covers.
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amazon.ion.core import IonType, TimestampPrecision

from ledger import ion
from ledger.errors import DataError, VerificationError
from ledger.hashing import ion_hash, verify_block
from ledger.journal.history import to_ms
from ledger.storage import layout

MALFORMED = (DataError, KeyError, TypeError, AttributeError, ValueError, IndexError, struct.error)
_MALFORMED = MALFORMED


# -- reading a block's parts ------------------------------------------------------------------
def text(value: Any) -> str:
    return ion.text_of(value)


def block_seq_and_strand(block: Any, seq: int | None = None) -> tuple[int, str]:
    """The (sequenceNo, strandId) a block claims; VerificationError if malformed."""
    try:
        address = block["blockAddress"]
        number, strand = address["sequenceNo"], address["strandId"]
    except _MALFORMED as exc:
        raise VerificationError(f"block has no valid blockAddress ({exc})", block=seq) from None
    if not (_is(number, IonType.INT) and _is(strand, IonType.STRING)):
        raise VerificationError(
            "blockAddress needs strandId (string) and sequenceNo (int)", block=seq
        )
    return int(number), text(strand)


def _is(value: Any, ion_type: IonType) -> bool:
    return not ion.is_null(value) and ion.ion_type_of(value) is ion_type


def revision_table(block: Mapping[str, Any], doc_id: str, seq: int) -> tuple[str, str]:
    """(tableId, tableName) of a revision, from transactionInfo.documents."""
    try:
        info = block["transactionInfo"]["documents"][doc_id]
        return text(info["tableId"]), text(info["tableName"])
    except _MALFORMED:
        raise VerificationError(
            "transactionInfo.documents has no table for the revision's document",
            block=seq,
            document=doc_id,
        ) from None


@dataclass(frozen=True)
class RevisionParts:
    """What the summary derives from one revision."""

    doc_id: str
    version: int
    tx_id: str
    ms: int  # txTime, milliseconds since 1970
    hash: bytes
    data: Any  # None when deleted or redacted
    live: bool  # has data: not a deleted document's final revision, not redacted


def revision_parts(revision: Any, seq: int) -> RevisionParts:
    try:
        metadata = revision["metadata"]
        doc_id = text(metadata["id"])
        layout.ident(doc_id)
        version = int(metadata["version"])
        tx_time = metadata["txTime"]
        if not isinstance(tx_time, _dt.datetime) or version < 0:
            raise ValueError("txTime must be a timestamp and version >= 0")
        data = revision.get("data")
        return RevisionParts(
            doc_id,
            version,
            text(metadata["txId"]),
            to_ms(tx_time),
            bytes(revision["hash"]),
            data,
            data is not None,
        )
    except _MALFORMED as exc:
        raise VerificationError(f"malformed revision metadata ({exc})", block=seq) from None


def block_ms(block: Mapping[str, Any], seq: int) -> int:
    """blockTimestamp in ms; it must be UTC with millisecond precision, as QLDB writes it,
    so that the times entry pins its exact Ion value (no hash covers it)."""
    stamp: Any = block.get("blockTimestamp")
    if not _is(stamp, IonType.TIMESTAMP) or not _is_utc_ms(stamp):
        raise VerificationError(
            "blockTimestamp is not a UTC timestamp with millisecond precision",
            computed=repr(stamp),
            block=seq,
        )
    return to_ms(stamp)


def _is_utc_ms(stamp: Any) -> bool:
    return (
        getattr(stamp, "precision", None) is TimestampPrecision.SECOND
        and getattr(stamp, "fractional_precision", None) == 3
        and stamp.utcoffset() == _dt.timedelta(0)
    )


def is_opaque(revision: Any) -> bool:
    """A revision QLDB exports as its hash alone (a system table's): counted, not read."""
    return isinstance(revision, Mapping) and set(revision) == {"hash"}


def check_block_contents(block: Any, seq: int, strand: str, previous: bytes | None) -> bytes:
    """One block on its own and in its chain; returns its blockHash.

    ``previous`` is the blockHash of block ``seq - 1`` (``b""`` for genesis, None when
    the previous block is not at hand, e.g. the first block of a time-ranged export).
    """
    if not isinstance(block, Mapping):
        raise VerificationError("block is not an Ion struct", block=seq)
    claimed_seq, claimed_strand = block_seq_and_strand(block, seq)
    if claimed_seq != seq:
        raise VerificationError(
            "blockAddress.sequenceNo out of order", expected=seq, computed=claimed_seq, block=seq
        )
    if claimed_strand != strand:
        raise VerificationError(
            "blockAddress.strandId is not this journal's strand",
            expected=strand,
            computed=claimed_strand,
            block=seq,
        )
    try:
        revisions = list(block.get("revisions") or ())
        _check_unhashed(block, revisions, seq, strand)
        verify_block(block)
        block_hash = bytes(block["blockHash"])
        claimed_previous = bytes(block.get("previousBlockHash") or b"")
    except VerificationError as exc:
        if exc.block is None:
            exc.block = seq
        raise
    except _MALFORMED as exc:
        raise VerificationError(
            f"malformed block ({type(exc).__name__}: {exc})", block=seq
        ) from None
    if previous is not None and claimed_previous != previous:
        raise VerificationError(
            "previousBlockHash breaks the chain",
            expected=previous,
            computed=claimed_previous,
            block=seq,
        )
    return block_hash


BLOCK_FIELDS = frozenset(
    {
        "blockAddress",
        "transactionId",
        "blockTimestamp",
        "blockHash",
        "entriesHash",
        "previousBlockHash",
        "entriesHashList",
        "transactionInfo",
        "redactionInfo",
        "revisions",
    }
)
REVISION_FIELDS = frozenset({"blockAddress", "hash", "data", "dataHash", "metadata"})


def _check_unhashed(block: Mapping[str, Any], revisions: list[Any], seq: int, strand: str) -> None:
    """Pin the parts no hash covers: field names, Ion types, blockAddress,
    blockTimestamp, transactionId (through its revisions' metadata.txId)."""
    _known_fields(block, BLOCK_FIELDS, "block", seq, None)
    _blob(block.get("blockHash"), "blockHash", seq, None)
    _blob(block.get("entriesHash"), "entriesHash", seq, None)
    if "previousBlockHash" in block:
        _blob(block["previousBlockHash"], "previousBlockHash", seq, None)
    for entry in block.get("entriesHashList") or ():
        _blob(entry, "an entriesHashList entry", seq, None)
    block_ms(block, seq)
    address = ion_hash({"strandId": strand, "sequenceNo": seq})
    tx_id = block.get("transactionId")
    if not _is(tx_id, IonType.STRING):
        raise VerificationError("transactionId is not a string", block=seq)
    for r in revisions:
        if not is_opaque(r):
            _check_revision_unhashed(r, address, tx_id, seq)


def _check_revision_unhashed(r: Any, address: bytes, tx_id: Any, seq: int) -> None:
    doc_id = _doc_of(r)
    _known_fields(r, REVISION_FIELDS, "revision", seq, doc_id)
    _blob(r.get("hash"), "a revision hash", seq, doc_id)
    if "dataHash" in r:
        _blob(r.get("dataHash"), "a revision dataHash", seq, doc_id)
    if ion_hash(r.get("blockAddress")) != address:
        raise VerificationError(
            "a revision's blockAddress is not its block's", block=seq, document=doc_id
        )
    meta = r.get("metadata")
    claimed = meta.get("txId") if isinstance(meta, Mapping) else None
    if ion_hash(claimed) != ion_hash(tx_id):
        raise VerificationError(
            "transactionId differs from its revisions' metadata.txId",
            expected=claimed,
            computed=tx_id,
            block=seq,
            document=doc_id,
        )


def _known_fields(
    value: Any, known: frozenset[str], what: str, seq: int, doc_id: str | None
) -> None:
    if not isinstance(value, Mapping):
        raise VerificationError(f"a {what} is not a struct", block=seq, document=doc_id)
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise VerificationError(f"{what} has unknown fields {unknown}", block=seq, document=doc_id)


def _blob(value: Any, what: str, seq: int, doc_id: str | None) -> None:
    if not _is(value, IonType.BLOB) or len(value) != 32:
        raise VerificationError(f"{what} is not a 32-byte blob", block=seq, document=doc_id)


def _doc_of(revision: Any) -> str | None:
    try:
        return text(revision["metadata"]["id"])
    except _MALFORMED:
        return None
