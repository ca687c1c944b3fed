"""How a block is stored: its Ion envelope and each revision's data, each encoded once.

Commit already holds every document's Ion binary (the bytes it checked against the
size limits), so the stored block reuses them instead of encoding the documents again
inside one big block value: the envelope is the block without its revisions' ``data``,
and the data follow as separate Ion values (ledger/storage/layout.py has the byte
layout).  A current-document record names (block, revision index), so a document's
bytes are stored once, and a reader decodes only the document it asked for.

Blocks read back whole are the same Ion value QLDB's GetBlock returns; a block stored
as one Ion value (format 1 ledgers) is read as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyDict

from ledger import ion
from ledger.errors import DataError
from ledger.storage import layout
from ledger.storage.kv import ReadTxn

Loads = Callable[[bytes], Any]


def encode(block: Mapping[str, Any]) -> bytes:
    """The stored bytes of a block in QLDB's shape (revisions with their ``data``)."""
    revisions = block.get("revisions")
    if not revisions:
        return layout.encode_block(ion.dumps(block), [])
    parts: list[tuple[int, bytes]] = []
    bare: list[Any] = []
    for index, revision in enumerate(revisions):
        if "data" in revision:
            parts.append((index, ion.dumps(revision["data"])))
            revision = {name: value for name, value in revision.items() if name != "data"}
        bare.append(revision)
    envelope = {name: value for name, value in block.items() if name != "revisions"}
    envelope["revisions"] = bare
    return layout.encode_block(ion.dumps(envelope), parts)


def decode(raw: bytes, loads: Loads = ion.loads, loads_data: Loads | None = None) -> Any:
    """The block value (QLDB's shape) from its stored bytes; DataError if malformed.

    ``loads_data`` decodes the revisions' data (default: ``loads``)."""
    block, parts = envelope(raw, loads)
    for index in parts:
        block["revisions"][index] = revision(block, parts, index, loads_data or loads)
    return block


def envelope(raw: bytes, loads: Loads = ion.loads) -> tuple[Any, dict[int, bytes]]:
    """(the block without its revisions' data, {revision index: data bytes}) of a stored
    block: what a reader of one revision needs, without decoding the others' data.  A
    block stored whole (format 1) comes back whole, with no parts."""
    if layout.is_whole_ion_block(raw):
        return loads(raw), {}
    bare, parts = split(raw)
    return loads(bare), dict(parts)


def revision(block: Any, parts: Mapping[int, bytes], index: int, loads: Loads = ion.loads) -> Any:
    """Revision ``index`` of an ``envelope``, with its data decoded and put back;
    DataError if the two do not match."""
    try:
        bare = block["revisions"][index]
        data = parts.get(index)
        return bare if data is None else with_data(bare, loads(data))
    except (KeyError, IndexError, TypeError) as exc:
        raise DataError(f"a stored block's data do not match its revisions: {exc!r}") from None


def split(raw: bytes) -> tuple[bytes, list[tuple[int, bytes]]]:
    """(envelope, [(revision index, data)]) of a stored block; DataError if malformed."""
    try:
        return layout.split_block(raw)
    except ValueError as exc:
        raise DataError(f"a stored block is malformed: {exc}") from None


def part(raw: bytes, index: int) -> bytes:
    """The Ion binary of revision ``index``'s data in a stored block (``raw`` may be a
    buffer: the result is bytes of its own)."""
    if layout.is_whole_ion_block(raw):
        return ion.dumps(ion.loads(bytes(raw))["revisions"][index]["data"])
    try:
        return bytes(layout.block_part(raw, index))
    except ValueError as exc:
        raise DataError(f"a stored block is malformed: {exc}") from None


def with_data(revision: Any, data: Any) -> IonPyDict:
    """``revision`` with ``data`` put back where QLDB has it: after ``hash``."""
    out = IonPyDict.from_value(IonType.STRUCT, {})
    placed = False
    for name, value in revision.items():
        out.add_item(name, value)
        if name == "hash" and not placed:
            out.add_item("data", data)
            placed = True
    if not placed:
        out.add_item("data", data)
    return out


def row_data(txn: ReadTxn, row: bytes) -> bytes:
    """The Ion binary of a current-document record's data, from its block."""
    place = layout.doc_place(row)
    if isinstance(place, bytes):
        return place
    seq, index = place
    head = txn.get_head("blocks", layout.block_key(seq))  # usually holds the part
    if head is not None and not layout.is_whole_ion_block(head):
        try:
            data = layout.block_part_in(head, index)
        except ValueError as exc:
            raise DataError(f"a stored block is malformed: {exc}") from None
        if data is not None:
            return data
    raw = txn.get("blocks", layout.block_key(seq))
    if raw is None:
        raise DataError(f"a document's revision is in block {seq}, which is missing")
    return part(raw, index)
