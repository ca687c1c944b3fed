"""The stored block layout (ledger/storage/layout.py, ledger/journal/blocks.py): an
envelope plus each revision's data, split back exactly; damage is a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import ion
from ledger.errors import DataError
from ledger.journal import blocks
from ledger.storage import layout

parts_strategy = st.lists(
    st.tuples(st.integers(0, 65535), st.binary(max_size=300)), max_size=8, unique_by=lambda p: p[0]
)


@given(st.binary(max_size=2000), parts_strategy)
def test_split_returns_what_was_encoded(envelope: bytes, parts: list[tuple[int, bytes]]) -> None:
    raw = layout.encode_block(envelope, parts)
    assert layout.split_block(raw) == (envelope, parts)
    for index, data in parts:
        assert layout.block_part(raw, index) == data
    missing = next(i for i in range(70000) if i not in dict(parts))
    with pytest.raises(ValueError, match="has no data"):
        layout.block_part(raw, missing)


def test_repetitive_envelopes_are_stored_compressed() -> None:
    envelope = b"strandId sequenceNo " * 100
    raw = layout.encode_block(envelope, [(0, b"data")])
    assert raw[0] == layout.ZLIB_ENVELOPE and len(raw) < len(envelope) // 4
    assert layout.split_block(raw) == (envelope, [(0, b"data")])
    assert layout.encode_block(b"", [])[0] == layout.PARTS_FORMAT  # nothing to gain


@given(st.binary(max_size=500), parts_strategy, st.data())
def test_truncated_blocks_are_refused(envelope: bytes, parts, data) -> None:
    raw = layout.encode_block(envelope, parts)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(ValueError):
        layout.split_block(raw[:cut])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x07\x00\x00\x00\x00\x00\x00", "unknown format byte 0x07"),
        (b"\x02\x00\x00\x00\x00\x00\x03abc", "does not decompress"),
        (b"\x01\x00\x01", "truncated"),
    ],
)
def test_malformed_blocks_say_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        blocks.decode(raw)


def test_a_block_round_trips_in_qldb_shape() -> None:
    block = {
        "blockAddress": {"strandId": "S" * 22, "sequenceNo": 3},
        "blockHash": b"\1" * 32,
        "revisions": [
            {"blockAddress": {"strandId": "S" * 22, "sequenceNo": 3}, "hash": b"\2" * 32,
             "data": {"a": 1}, "metadata": {"id": "D" * 22, "version": 0}},
            {"hash": b"\3" * 32, "metadata": {"id": "E" * 22, "version": 1}},  # a deletion
            {"hash": b"\4" * 32},  # an opaque system revision
        ],
    }
    decoded = blocks.decode(blocks.encode(block))
    assert ion.dumps(decoded) == ion.dumps(block)  # same fields, same order
    assert list(decoded["revisions"][0]) == ["blockAddress", "hash", "data", "metadata"]
    assert blocks.part(blocks.encode(block), 0) == ion.dumps({"a": 1})
    with pytest.raises(DataError, match="revision 1 of this block has no data"):
        blocks.part(blocks.encode(block), 1)


def test_a_block_stored_whole_as_format_1_did_reads_as_it_is() -> None:
    block = {"blockHash": b"\1" * 32, "revisions": [{"hash": b"\2" * 32, "data": {"a": 1}}]}
    assert blocks.decode(ion.dumps(block)) == ion.loads(ion.dumps(block))
    assert blocks.part(ion.dumps(block), 0) == ion.dumps({"a": 1})
