"""The stored block layout (ledger/storage/layout.py, ledger/journal/blocks.py): an
envelope plus each revision's data, split back exactly; damage is a clear error."""

from __future__ import annotations

import struct
import zlib

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
    envelope = b"strandId sequenceNo " * 120  # from layout.COMPRESS_FROM bytes on
    raw = layout.encode_block(envelope, [(0, b"data")])
    assert raw[0] == layout.SHARED_ZLIB and len(raw) < len(envelope) // 4
    assert layout.split_block(raw) == (envelope, [(0, b"data")])
    assert layout.encode_block(b"", [])[0] == layout.SHARED_PARTS  # nothing to gain


def test_small_envelopes_are_stored_uncompressed_and_old_compressed_ones_still_read() -> None:
    """zlib cost ~13% of a one-document commit's instructions to save ~190 bytes."""
    envelope = b"strandId sequenceNo " * 50  # 1000 bytes, compressible
    raw = layout.encode_block(envelope, [(0, b"data")])
    assert raw[0] == layout.SHARED_PARTS and envelope in raw
    old = layout._PARTS_HEAD.pack(layout.ZLIB_ENVELOPE, 1, len(zlib.compress(envelope, 1)))
    old += struct.pack(">HI", 0, 4) + zlib.compress(envelope, 1) + b"data"
    assert layout.split_block(old) == (envelope, [(0, b"data")])
    assert layout.block_part(old, 0) == b"data"


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
            {
                "blockAddress": {"strandId": "S" * 22, "sequenceNo": 3},
                "hash": b"\2" * 32,
                "data": {"a": 1},
                "metadata": {"id": "D" * 22, "version": 0},
            },
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


def test_one_revision_reads_back_without_decoding_the_others() -> None:
    block = {
        "blockHash": b"\1" * 32,
        "revisions": [{"hash": bytes([i]) * 32, "data": {"n": i}} for i in range(5)]
        + [{"hash": b"\7" * 32}],  # no data: a deletion
    }
    raw = blocks.encode(block)
    decoded: list[bytes] = []

    def loads(data: bytes):
        decoded.append(data)
        return ion.loads(data)

    whole = blocks.decode(raw)
    for index in range(6):
        decoded.clear()
        envelope, parts = blocks.envelope(raw, loads)
        revision = blocks.revision(envelope, parts, index, loads)
        assert ion.dumps(revision) == ion.dumps(whole["revisions"][index])
        assert len(decoded) == (2 if index < 5 else 1)  # the envelope, and only its own data
    with pytest.raises(DataError, match="do not match its revisions"):
        blocks.revision(envelope, {9: ion.dumps({"n": 9})}, 9)


def test_get_revision_and_history_of_a_many_document_block(tmp_path) -> None:
    import ledger

    with ledger.connect(tmp_path / "l") as db:
        db.execute("CREATE TABLE T")
        db.execute("INSERT INTO T ?", [{"n": i} for i in range(6)])
        rows = list(
            db.execute(
                "SELECT metadata.id AS id, blockAddress.sequenceNo AS seq, data.n AS n FROM _ql_committed_T"
            )
        )
        assert len(rows) == 6 and len({row["seq"] for row in rows}) == 1  # one block
        tip = db.digest().tip.sequence_no
        block, _ = db.get_block(rows[0]["seq"])
        for row in rows:
            revision, _ = db.get_revision(row["seq"], row["id"], tip)
            assert revision["data"]["n"] == row["n"]
            index = [str(r["metadata"]["id"]) for r in block["revisions"]].index(row["id"])
            assert ion.dumps(revision) == ion.dumps(block["revisions"][index])
            history = db.execute("SELECT * FROM history(T) WHERE metadata.id = ?", row["id"])
            assert [h["data"]["n"] for h in history] == [row["n"]]


# -- parts sharing their leading bytes (format 3) ------------------------------------------
ion_documents = st.lists(
    st.dictionaries(
        st.sampled_from(["a", "b", "VIN", "Owner", "x" * 40]), st.integers(-9, 999) | st.just("text")
    ),
    min_size=1,
    max_size=6,
)


@given(ion_documents)
def test_documents_of_one_shape_store_their_symbol_table_once(docs: list[dict]) -> None:
    parts = [(i, ion.dumps(d)) for i, d in enumerate(docs)]
    raw = layout.encode_block(b"envelope", parts)
    assert layout.split_block(raw) == (b"envelope", parts)
    for index, data in parts:
        assert layout.block_part(raw, index) == data
    cut = layout.symbol_table_end(parts[0][1])
    sharing = [d for _, d in parts[1:] if cut and d.startswith(parts[0][1][:cut])]
    whole = layout.encode_block(b"envelope", [])
    assert len(raw) == len(whole) + 8 * len(parts) + sum(len(d) for _, d in parts) - cut * len(sharing)


def test_a_shared_symbol_table_is_ion_s_own_prefix() -> None:
    data = ion.dumps({"VIN": "1", "Make": "Ford"})
    cut = layout.symbol_table_end(data)
    assert data[:4] == b"\xe0\x01\x00\xea" and ion.loads(data[:cut] + ion.dumps(7)[4:]) == 7
    assert ion.dumps({"VIN": "2", "Make": "Audi"}).startswith(data[:cut])
    assert layout.symbol_table_end(ion.dumps(7)) == 0  # no symbol table: nothing to share
    assert layout.symbol_table_end(b"\xe0\x01\x00\xea\xee") == 0  # truncated
    assert layout.symbol_table_end(b"\x01\x02") == 0


@given(st.binary(min_size=1, max_size=40), st.lists(st.binary(max_size=40), min_size=1, max_size=5))
def test_any_parts_round_trip_whatever_they_share(head: bytes, tails: list[bytes]) -> None:
    table = b"\xe0\x01\x00\xea\xee" + bytes([0x80 | len(head)]) + head  # length as VarUInt
    parts = [(i, (table if i % 2 == 0 else b"") + t) for i, t in enumerate(tails)]
    raw = layout.encode_block(b"", parts)
    assert layout.split_block(raw) == (b"", parts)
    assert [layout.block_part(raw, i) for i, _ in parts] == [d for _, d in parts]


def test_a_shared_length_beyond_the_first_part_is_refused() -> None:
    first, second = ion.dumps({"VIN": "1"}), ion.dumps({"VIN": "2"})
    raw = bytearray(layout.encode_block(b"", [(0, first), (1, second)]))
    shared_at = layout._PARTS_HEAD.size + 2 * 2 + 4 * 2 + 2  # part 1's shared length
    assert struct.unpack_from(">H", raw, shared_at)[0] == layout.symbol_table_end(first) > 0
    struct.pack_into(">H", raw, shared_at, len(first) + 1)
    with pytest.raises(ValueError, match="share more than its first part holds"):
        layout.split_block(bytes(raw))
    with pytest.raises(ValueError, match="share more than its first part holds"):
        layout.block_part(bytes(raw), 1)
    struct.pack_into(">H", raw, shared_at - 2, 3)  # part 0 cannot share with itself
    with pytest.raises(ValueError, match="share more"):
        layout.split_block(bytes(raw))


@given(st.binary(max_size=300), ion_documents, st.data())
def test_a_part_is_read_from_a_block_s_beginning_or_said_to_lie_beyond(envelope, docs, data) -> None:
    """A chunked store hands a document read the block's first piece (kv.ReadTxn.get_head)."""
    parts = [(i, ion.dumps(d)) for i, d in enumerate(docs)]
    raw = layout.encode_block(envelope, parts)
    head = raw[: data.draw(st.integers(0, len(raw)))]
    for index, part in parts:
        assert layout.block_part_in(head, index) in (None, part)
        assert layout.block_part_in(raw, index) == part
    assert layout.block_part_in(raw[: len(raw) - len(envelope)], len(parts) - 1) == parts[-1][1]
