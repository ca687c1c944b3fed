"""Key layouts and record codecs of the named databases (see kv.DBS).

Integers in keys are big-endian so keys sort numerically.  Ids are 22 ASCII bytes.
A current-document record is a fixed header followed by the document's Ion binary,
so reading the header never decodes the document.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ledger.storage import keycodec

ID_LEN = 22
MAX_INDEX_VALUE = 400  # LMDB keys are <= 511 bytes; longer values are truncated
_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
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


def encode_doc(header: DocHeader, data: bytes) -> bytes:
    packed = _DOC_HEADER.pack(
        header.version, header.seq, header.tx_time_ms, header.hash, ident(header.tx_id)
    )
    return packed + data


def decode_doc_header(value: bytes) -> DocHeader:
    version, seq, ms, digest, tx_id = _DOC_HEADER.unpack_from(value)
    return DocHeader(version, seq, ms, digest, tx_id.decode("ascii"))


def doc_data(value: bytes) -> bytes:
    return value[_DOC_HEADER.size :]


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
