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


# Stored block: a format byte, u16 n, u32 stored envelope length, a table of the n data
# parts (below), the envelope (the block's Ion binary without its revisions' data;
# zlib-compressed under the *_ZLIB formats: its addresses, ids and names repeat for every
# revision, ~70% smaller) and each listed revision's data as its own Ion binary, which a
# document read slices out without touching the envelope.  A block that starts with the
# Ion version marker (0xE0) is one whole Ion value (format 1 ledgers).
#
# The table is n x u16 revision index and n x u32 end of each stored part (from where
# the parts start); the SHARED formats add n x u16 shared length: part k is the first
# ``shared`` bytes of part 0 followed by its own stored bytes.  Documents of one shape
# begin with the same Ion local symbol table (their field names, ~40% of a ~300-byte
# document), so a block of many stores it once.  The SHARED formats also put the parts
# before the envelope, so that a document read finds them in the first piece of a large
# block (storage/chunks.py).  PARTS_FORMAT and ZLIB_ENVELOPE (envelope first, no shared
# lengths) are what ledgers before format 3 wrote; they stay readable.
PARTS_FORMAT = 0x01
ZLIB_ENVELOPE = 0x02
SHARED_PARTS = 0x03
SHARED_ZLIB = 0x04
_ZLIB_FORMATS = (ZLIB_ENVELOPE, SHARED_ZLIB)
_SHARED_FORMATS = (SHARED_PARTS, SHARED_ZLIB)
_FORMATS = (PARTS_FORMAT, ZLIB_ENVELOPE, SHARED_PARTS, SHARED_ZLIB)
_PARTS_HEAD = struct.Struct(">BHI")
_ION_BVM = b"\xe0\x01\x00\xea"
MAX_SHARED = 0xFFFF
# Envelopes below this are stored uncompressed: zlib cost ~13% of a small commit's
# instructions to save ~190 bytes; readers take either format, old ledgers too.
COMPRESS_FROM = 2048


def encode_block(envelope: bytes, parts: Sequence[tuple[int, bytes]]) -> bytes:
    """A block's stored bytes from its envelope and its (revision index, data) parts."""
    fmt, packed = SHARED_PARTS, envelope
    if len(envelope) >= COMPRESS_FROM:
        compressed = zlib.compress(envelope, 1)
        if len(compressed) < len(envelope):
            fmt, packed = SHARED_ZLIB, compressed
    n = len(parts)
    datas = [d for _, d in parts]
    shared = _shared(datas)
    stored = [d[cut:] for d, cut in zip(datas, shared, strict=True)] if any(shared) else datas
    ends = itertools.accumulate(map(len, stored))
    table = struct.pack(f">{n}H{n}I{n}H", *(i for i, _ in parts), *ends, *shared)
    return b"".join([_PARTS_HEAD.pack(fmt, n, len(packed)), table, *stored, packed])


def _shared(datas: list[bytes]) -> list[int]:
    """How many leading bytes each part shares with part 0: part 0's Ion version marker
    and local symbol table, when the other part begins with the same bytes (so the part
    read back is the very bytes written); 0 for part 0 itself."""
    cut = symbol_table_end(datas[0]) if len(datas) > 1 else 0
    if cut == 0:
        return [0] * len(datas)
    prefix = datas[0][:cut]
    shared = [cut if d.startswith(prefix) else 0 for d in datas]
    shared[0] = 0
    return shared


def symbol_table_end(data: bytes) -> int:
    """Where the Ion version marker and the first value after it (a local symbol table
    in an encoded document) end, if both are there and within MAX_SHARED; else 0."""
    if not data.startswith(_ION_BVM) or len(data) < 6:
        return 0
    descriptor, at = data[4], 5
    length = descriptor & 0x0F
    if descriptor >> 4 != 0xE or length == 15:  # an annotation wrapper, not null
        return 0
    if length == 14:  # the length follows as a VarUInt
        length = 0
        for at in range(5, min(len(data), 9)):
            length = (length << 7) | (data[at] & 0x7F)
            if data[at] & 0x80:
                break
        else:
            return 0
        at += 1
    end = at + length
    return end if end <= min(len(data), MAX_SHARED) else 0


def is_whole_ion_block(raw: bytes) -> bool:
    return raw[:1] == b"\xe0"


def split_block(raw: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(envelope, [(revision index, data)]) of a stored block; ValueError if malformed."""
    fmt, n, envelope_len, indexes, ends, shared = _parts_table(raw)
    parts_at, envelope_at = _offsets(fmt, n, envelope_len, ends[-1] if n else 0)
    envelope = raw[envelope_at : envelope_at + envelope_len]
    parts, start = [], 0
    for index, end in zip(indexes, ends, strict=True):
        if end < start:
            raise ValueError("a stored block's parts overlap")
        parts.append((index, raw[parts_at + start : parts_at + end]))
        start = end
    if max(parts_at + start, envelope_at + envelope_len) != len(raw) or len(envelope) != envelope_len:
        raise ValueError("a stored block's parts do not add up to its length")
    if any(shared):
        parts = _unshare(parts, shared)
    if fmt in _ZLIB_FORMATS:
        try:
            envelope = zlib.decompress(envelope)
        except zlib.error as exc:
            raise ValueError(f"a stored block's envelope does not decompress: {exc}") from None
    return envelope, parts


def _offsets(fmt: int, n: int, envelope_len: int, parts_len: int) -> tuple[int, int]:
    """Where a stored block's parts start, and where its envelope does."""
    table_end = _PARTS_HEAD.size + _table_size(fmt, n)
    if fmt in _SHARED_FORMATS:
        return table_end, table_end + parts_len
    return table_end + envelope_len, table_end


def _unshare(parts: list[tuple[int, bytes]], shared: tuple[int, ...]) -> list[tuple[int, bytes]]:
    base = parts[0][1]
    if shared[0] or max(shared) > len(base):
        raise ValueError("a stored block's parts share more than its first part holds")
    return [(index, base[:cut] + data if cut else data)
            for (index, data), cut in zip(parts, shared, strict=True)]


def block_part(raw: bytes, index: int) -> bytes:
    """The data of revision ``index`` of a stored block; ValueError if it has none.

    A few fixed-offset reads: usually every revision has data, and part k is revision k."""
    data = block_part_in(raw, index, whole=True)
    assert data is not None
    return data


def block_part_in(head: bytes, index: int, *, whole: bool = False) -> bytes | None:
    """``block_part`` of a stored block of which ``head`` is the beginning (a chunked
    store's first piece: kv.ReadTxn.get_head); None if the part lies beyond it.  With
    ``whole`` (head is the whole block), a part beyond it is a ValueError."""
    try:
        fmt, n, envelope_len = _PARTS_HEAD.unpack_from(head)
        if fmt not in _FORMATS:
            raise ValueError(f"a stored block has unknown format byte {fmt:#04x}")
        k = index
        if not (index < n and _U16.unpack_from(head, _PARTS_HEAD.size + 2 * index)[0] == index):
            indexes = struct.unpack_from(f">{n}H", head, _PARTS_HEAD.size)
            if index not in indexes:
                raise ValueError(f"revision {index} of this block has no data")
            k = indexes.index(index)
        ends_at = _PARTS_HEAD.size + 2 * n
        start = _U32.unpack_from(head, ends_at + 4 * (k - 1))[0] if k else 0
        end = _U32.unpack_from(head, ends_at + 4 * k)[0]
        cut = _U16.unpack_from(head, ends_at + 4 * n + 2 * k)[0] if fmt in _SHARED_FORMATS else 0
    except struct.error as exc:
        if not whole:
            return None
        raise ValueError(f"a stored block is truncated: {exc}") from None
    base = _offsets(fmt, n, envelope_len, 0)[0]
    if not start <= end:
        raise ValueError("a stored block's parts overlap")
    if base + end > len(head):
        if not whole:
            return None
        raise ValueError("a stored block is shorter than its parts")
    if not cut:
        return head[base + start : base + end]
    if k == 0 or cut > _U32.unpack_from(head, ends_at)[0]:
        raise ValueError("a stored block's parts share more than its first part holds")
    return head[base : base + cut] + head[base + start : base + end]


def _table_size(fmt: int, n: int) -> int:
    return (8 if fmt in _SHARED_FORMATS else 6) * n


def _parts_table(
    raw: bytes,
) -> tuple[int, int, int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    try:
        fmt, n, envelope_len = _PARTS_HEAD.unpack_from(raw)
        if fmt not in _FORMATS:
            raise ValueError(f"a stored block has unknown format byte {fmt:#04x}")
        shares = n if fmt in _SHARED_FORMATS else 0
        table = struct.unpack_from(f">{n}H{n}I{shares}H", raw, _PARTS_HEAD.size)
    except struct.error as exc:
        raise ValueError(f"a stored block is truncated: {exc}") from None
    shared = table[2 * n :] if shares else (0,) * n
    return fmt, n, envelope_len, table[:n], table[n : 2 * n], shared


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


# -- every entry one revision implies (verify builds them for each revision) ------
def revision_entries(
    doc_id: str, version: int, seq: int, index: int, ms: int, digest: bytes, tx_id: str,
    table_id: str,
) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes]:
    """(revisions key, the next version's revisions key, the revisions entry's value, the
    history key, the docs key, the docs row commit writes): what ``revision_key``,
    ``location``, ``history_key``, ``doc_key`` and ``encode_doc`` give, each id checked
    once.  ValueError or struct.error as they raise."""
    doc, table = ident(doc_id), ident(table_id)
    return (
        doc + _U32.pack(version),
        doc + _U32.pack(version + 1),
        _LOCATION.pack(seq, index, ms),
        table + _SEQ_IDX.pack(seq, index),
        table + doc,
        _DOC_HEADER.pack(version, seq, ms, digest, ident(tx_id)) + _U16.pack(index),
    )
