"""Key layouts and record codecs of the named databases (see kv.DBS).

Integers in keys are big-endian so keys sort numerically.  Ids are 22 ASCII bytes.
A block is stored as its Ion envelope followed by each revision's data, encoded once
(``encode_block``); a current-document record is a fixed header naming the revision's
place in its block, so a document's bytes are on disk once and reading the header
never decodes the document.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.storage import keycodec

ID_LEN = 22
MAX_INDEX_VALUE = 400  # LMDB keys are <= 511 bytes; longer values are truncated
_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
_SEQ_IDX = struct.Struct(">QH")
_LOCATION = struct.Struct(">QHq")  # sequenceNo, index in block, blockTimestamp ms
_DOC_HEADER = struct.Struct(">IQq32s22s")  # version, seq, txTime ms, hash, txId


def u64(n: int) -> bytes:
    return _U64.pack(n)


def read_u64(b: bytes) -> int:
    return int(_U64.unpack(b[:8])[0])


def ident(text: str) -> bytes:
    raw = text.encode("ascii")
    if len(raw) != ID_LEN:
        raise ValueError(f"an id has {ID_LEN} characters, got {len(raw)}: {text!r}")
    return raw


# -- blocks, block_hashes, times -----------------------------------------------
def block_key(seq: int) -> bytes:
    return u64(seq)


def times_key(ms: int, seq: int) -> bytes:
    return u64(ms + (1 << 63)) + u64(seq)


def read_times_key(key: bytes) -> tuple[int, int]:
    return read_u64(key[:8]) - (1 << 63), read_u64(key[8:16])


# Stored block: a format byte, u16 n, u32 stored envelope length, n x u16 revision index,
# n x u32 end of each data part (from the end of the envelope), the envelope (the block's Ion binary without its revisions' data;
# zlib-compressed under ZLIB_ENVELOPE: its addresses, ids and names repeat for every
# revision, ~60% smaller), then each listed revision's data as its own Ion binary, which
# a document read slices out without touching the envelope.  A block that starts with
# the Ion version marker (0xE0) is one whole Ion value (format 1 ledgers).
PARTS_FORMAT = 0x01
ZLIB_ENVELOPE = 0x02
_PARTS_HEAD = struct.Struct(">BHI")
# Envelopes below this are stored uncompressed (PARTS_FORMAT): zlib cost ~13% of a small
# commit's instructions to save ~190 bytes; readers take either format, old ledgers too.
COMPRESS_FROM = 2048


def encode_block(envelope: bytes, parts: Sequence[tuple[int, bytes]]) -> bytes:
    """A block's stored bytes from its envelope and its (revision index, data) parts."""
    fmt, packed = PARTS_FORMAT, envelope
    if len(envelope) >= COMPRESS_FROM:
        compressed = zlib.compress(envelope, 1)
        if len(compressed) < len(envelope):
            fmt, packed = ZLIB_ENVELOPE, compressed
    n = len(parts)
    ends = list(itertools.accumulate(len(d) for _, d in parts))
    table = struct.pack(f">{n}H{n}I", *(i for i, _ in parts), *ends)
    return b"".join([_PARTS_HEAD.pack(fmt, n, len(packed)), table, packed,
                     *(d for _, d in parts)])


def is_whole_ion_block(raw: bytes) -> bool:
    return raw[:1] == b"\xe0"


def split_block(raw: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(envelope, [(revision index, data)]) of a stored block; ValueError if malformed."""
    fmt, n, envelope_len, indexes, ends = _parts_table(raw)
    at = _PARTS_HEAD.size + 6 * n
    envelope = raw[at : at + envelope_len]
    at += envelope_len
    parts, start = [], 0
    for index, end in zip(indexes, ends, strict=True):
        if end < start:
            raise ValueError("a stored block's parts overlap")
        parts.append((index, raw[at + start : at + end]))
        start = end
    if at + start != len(raw) or len(envelope) != envelope_len:
        raise ValueError("a stored block's parts do not add up to its length")
    if fmt == ZLIB_ENVELOPE:
        try:
            envelope = zlib.decompress(envelope)
        except zlib.error as exc:
            raise ValueError(f"a stored block's envelope does not decompress: {exc}") from None
    return envelope, parts


def block_part(raw: bytes, index: int) -> bytes:
    """The data of revision ``index`` of a stored block; ValueError if it has none.

    A few fixed-offset reads: usually every revision has data, and part k is revision k."""
    try:
        fmt, n, envelope_len = _PARTS_HEAD.unpack_from(raw)
        if fmt not in (PARTS_FORMAT, ZLIB_ENVELOPE):
            raise ValueError(f"a stored block has unknown format byte {fmt:#04x}")
        k = index
        if not (index < n and _U16.unpack_from(raw, _PARTS_HEAD.size + 2 * index)[0] == index):
            indexes = struct.unpack_from(f">{n}H", raw, _PARTS_HEAD.size)
            if index not in indexes:
                raise ValueError(f"revision {index} of this block has no data")
            k = indexes.index(index)
        ends_at = _PARTS_HEAD.size + 2 * n
        start = _U32.unpack_from(raw, ends_at + 4 * (k - 1))[0] if k else 0
        end = _U32.unpack_from(raw, ends_at + 4 * k)[0]
    except struct.error as exc:
        raise ValueError(f"a stored block is truncated: {exc}") from None
    base = _PARTS_HEAD.size + 6 * n + envelope_len
    if not start <= end <= len(raw) - base:
        raise ValueError("a stored block is shorter than its parts")
    return raw[base + start : base + end]


def _parts_table(raw: bytes) -> tuple[int, int, int, tuple[int, ...], tuple[int, ...]]:
    try:
        fmt, n, envelope_len = _PARTS_HEAD.unpack_from(raw)
        table = struct.unpack_from(f">{n}H{n}I", raw, _PARTS_HEAD.size)
    except struct.error as exc:
        raise ValueError(f"a stored block is truncated: {exc}") from None
    if fmt not in (PARTS_FORMAT, ZLIB_ENVELOPE):
        raise ValueError(f"a stored block has unknown format byte {fmt:#04x}")
    return fmt, n, envelope_len, table[:n], table[n:]


# -- tree ----------------------------------------------------------------------
def tree_key(level: int, index: int) -> bytes:
    return bytes((level,)) + u64(index)


# -- docs ----------------------------------------------------------------------
def doc_key(table_id: str, doc_id: str) -> bytes:
    return ident(table_id) + ident(doc_id)


def doc_prefix(table_id: str) -> bytes:
    return ident(table_id)


def doc_id_of(key: bytes) -> str:
    return key[ID_LEN:].decode("ascii")


@dataclass(frozen=True)
class DocHeader:
    version: int
    seq: int
    tx_time_ms: int
    hash: bytes
    tx_id: str


def encode_doc(header: DocHeader, index: int) -> bytes:
    """A current-document record: the header and the revision's index in block header.seq,
    where its data is stored."""
    packed = _DOC_HEADER.pack(
        header.version, header.seq, header.tx_time_ms, header.hash, ident(header.tx_id)
    )
    return packed + _U16.pack(index)


def decode_doc_header(value: bytes) -> DocHeader:
    version, seq, ms, digest, tx_id = _DOC_HEADER.unpack_from(value)
    return DocHeader(version, seq, ms, digest, tx_id.decode("ascii"))


def doc_seq(value: bytes) -> int:
    """``decode_doc_header(value).seq``, read alone (a point read's read set)."""
    return int(_U64.unpack_from(value, 4)[0])


def doc_place(value: bytes) -> tuple[int, int] | bytes:
    """Where a record's data is: (block seq, revision index), or the data itself in a
    format 1 record (the header followed by the document's Ion binary)."""
    rest = value[_DOC_HEADER.size :]
    if len(rest) == _U16.size:
        return int(_U64.unpack_from(value, 4)[0]), int(_U16.unpack(rest)[0])
    return rest


# -- revisions and history -----------------------------------------------------
def revision_key(doc_id: str, version: int) -> bytes:
    return ident(doc_id) + _U32.pack(version)


def revision_prefix(doc_id: str) -> bytes:
    return ident(doc_id)


def read_revision_key(key: bytes) -> tuple[str, int]:
    return key[:ID_LEN].decode("ascii"), int(_U32.unpack(key[ID_LEN:])[0])


def location(seq: int, index: int, ms: int) -> bytes:
    return _LOCATION.pack(seq, index, ms)


def read_location(value: bytes) -> tuple[int, int, int]:
    seq, index, ms = _LOCATION.unpack(value)
    return int(seq), int(index), int(ms)


def history_key(table_id: str, seq: int, index: int) -> bytes:
    return ident(table_id) + _SEQ_IDX.pack(seq, index)


def history_value(doc_id: str, version: int) -> bytes:
    """A history entry's value: the revision it names, in the revisions key's form."""
    return revision_key(doc_id, version)


def read_history_value(value: bytes) -> tuple[str, int]:
    return read_revision_key(value)


def read_history_key(key: bytes) -> tuple[int, int]:
    seq, index = _SEQ_IDX.unpack(key[ID_LEN:])
    return int(seq), int(index)


# -- index ---------------------------------------------------------------------
MISSING_VALUE = b"\x08"  # a document without the field: sorts before null


def index_value(value: object) -> bytes:
    """The encoded value as it stands in keys (long ones truncated: a superset match)."""
    return keycodec.encode(value)[:MAX_INDEX_VALUE]


def index_key(index_id: str, encoded: bytes, doc_id: str) -> bytes:
    return ident(index_id) + encoded + ident(doc_id)


def index_doc_id(key: bytes) -> str:
    return key[-ID_LEN:].decode("ascii")


def index_encoded(key: bytes) -> bytes:
    return key[ID_LEN:-ID_LEN]
