"""``verify``: an untouched ledger verifies; each kind of corruption, in the journal or
in the summary derived from it, is caught and located (block, document, expected,
computed); saved and signed digests catch what a journal alone cannot (truncation)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from proofkit import copy_ledger, edit, entries, ref_merkle, verify_path

import ledger
from ledger import ion
from ledger.journal import blocks as stored_blocks
from ledger.journal.catalog import CATALOG_TABLE_ID
from ledger.proof import signing
from ledger.proof.verify import Frontier, VerifyReport, tree_node_count
from ledger.query.context import BlockAddress
from ledger.storage import layout


@pytest.fixture
def copy(base_ledger, tmp_path) -> tuple[Path, dict]:
    path, ids = base_ledger
    return copy_ledger(path, tmp_path / "copy.ledger"), ids


def test_untouched_ledger_verifies(base_ledger):
    path, _ = base_ledger
    report = verify_path(path)
    assert report.verified and report.failure is None
    with ledger.connect(path, readonly=True) as db:
        digest = db.digest()
    assert report.digest == digest.digest and report.tip == digest.tip
    assert report.blocks == digest.tip.sequence_no + 1
    assert report.revisions == len(entries(path, "revisions"))
    out = report.to_json()
    assert set(out) == {"verified", "blocks", "revisions", "digest", "tip", "failure"}
    assert out["tip"] == {"strandId": digest.tip.strand_id, "sequenceNo": digest.tip.sequence_no}


def test_empty_ledger_verifies(tmp_path):
    with ledger.connect(tmp_path / "e.ledger"):
        pass
    report = verify_path(tmp_path / "e.ledger")
    assert report.verified and report.blocks == 0 and report.digest == b""


def test_progress_is_reported_per_block(base_ledger):
    calls = []
    report = verify_path(base_ledger[0], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i + 1, report.blocks) for i in range(report.blocks)]


def test_frontier_matches_the_reference_tree():
    import hashlib

    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(37)]
    frontier = Frontier()
    stored = 0
    for n, leaf in enumerate(leaves, 1):
        stored += len(frontier.push(leaf))
        assert frontier.root() == ref_merkle(leaves[:n])
        assert stored == tree_node_count(n)


# -- golden negatives: one corruption each, and where it is reported ------------------------------
def _block(path: Path, seq: int):
    return stored_blocks.decode(dict(entries(path, "blocks"))[layout.block_key(seq)])


def _put_block(path: Path, seq: int, block) -> None:
    edit(path, lambda w: w.put("blocks", layout.block_key(seq), stored_blocks.encode(block)))


def _failed(path: Path, **where) -> VerifyReport:
    report = verify_path(path)
    assert not report.verified, "corruption went unnoticed"
    for name, value in where.items():
        assert getattr(report, name) == value, (name, report.failure)
    return report


def test_changed_document_data_in_a_block(copy):
    path, _ = copy
    block = _block(path, 4)
    block["revisions"][0]["data"]["n"] = 12345
    _put_block(path, 4, block)
    report = _failed(path, block=4, document=str(block["revisions"][0]["metadata"]["id"]))
    assert "revision hash" in report.failure
    assert report.expected == bytes(block["revisions"][0]["hash"])


def test_rehashed_block_breaks_the_chain_or_the_tree(copy):
    """A forger who recomputes a block's hashes still meets block_hashes and the chain."""
    from ledger.hashing import block_hashes, revision_hash

    path, _ = copy
    block = _block(path, 6)
    rev = block["revisions"][0]
    rev["data"] = {"forged": True}
    rev["hash"] = revision_hash(rev["metadata"], rev["data"])
    hashes = block_hashes(
        block["transactionInfo"],
        [r["hash"] for r in block["revisions"]],
        bytes(block["previousBlockHash"]),
    )
    block.update(
        entriesHashList=hashes.entries_hash_list,
        entriesHash=hashes.entries_hash,
        blockHash=hashes.block_hash,
    )
    _put_block(path, 6, block)
    report = _failed(path, block=6)
    assert "block_hashes" in report.failure


def test_deleted_block(copy):
    path, _ = copy
    edit(path, lambda w: w.delete("blocks", layout.block_key(3)))
    report = _failed(path, block=3)
    assert "block 3 is missing" in report.failure


def test_truncated_blocks_db_is_caught_by_block_hashes(copy):
    path, _ = copy
    last = len(entries(path, "blocks")) - 1
    edit(path, lambda w: w.delete("blocks", layout.block_key(last)))
    report = _failed(path, block=last)
    assert "block_hashes" in report.failure


def test_reordered_blocks(copy):
    path, _ = copy
    values = dict(entries(path, "blocks"))
    a, b = values[layout.block_key(2)], values[layout.block_key(3)]

    def swap(w):
        w.put("blocks", layout.block_key(2), b)
        w.put("blocks", layout.block_key(3), a)

    edit(path, swap)
    report = _failed(path, block=2)
    assert "out of order" in report.failure


def test_unhashed_fields_are_pinned(copy):
    path, _ = copy
    block = _block(path, 5)
    block["transactionId"] = "A" * 22
    _put_block(path, 5, block)
    assert "transactionId" in _failed(path, block=5).failure


def test_block_timestamp_is_pinned_by_times(copy):
    path, _ = copy
    block = _block(path, 5)
    block["blockTimestamp"] = ion.loads("2001-01-01T00:00:00.000Z")
    _put_block(path, 5, block)
    assert "times" in _failed(path, block=5).failure


def test_tree_node(copy):
    path, _ = copy
    edit(path, lambda w: w.put("tree", layout.tree_key(2, 1), b"\1" * 32))
    report = _failed(path, block=7)
    assert "level 2, index 1" in report.failure and report.computed == b"\1" * 32


def test_extra_tree_node(copy):
    path, _ = copy
    edit(path, lambda w: w.put("tree", layout.tree_key(9, 0), b"\1" * 32))
    assert "level 9, index 0" in _failed(path).failure


def _doc_row(path: Path, ids) -> tuple[bytes, bytes]:
    prefix = layout.doc_prefix(ids["A"])
    return next((k, v) for k, v in entries(path, "docs") if k.startswith(prefix))


def test_docs_row_data(copy):
    path, ids = copy
    key, value = _doc_row(path, ids)
    header = layout.decode_doc_header(value)
    place = layout.doc_place(value)
    assert isinstance(place, tuple) and place[0] == header.seq
    # a row in format 1's shape (the header, then the data inline) with other data
    forged = value[:-2] + ion.dumps({"k": "forged"})
    edit(path, lambda w: w.put("docs", key, forged))
    report = _failed(path, block=header.seq, document=layout.doc_id_of(key))
    assert "does not hash" in report.failure


def test_docs_row_pointing_at_another_revision(copy):
    path, ids = copy
    key, value = _doc_row(path, ids)
    header = layout.decode_doc_header(value)
    seq, index = layout.doc_place(value)
    edit(path, lambda w: w.put("docs", key, layout.encode_doc(header, index + 1)))
    _failed(path, block=header.seq, document=layout.doc_id_of(key))


def test_docs_row_header(copy):
    path, ids = copy
    key, value = _doc_row(path, ids)
    header = layout.decode_doc_header(value)
    edit(
        path,
        lambda w: w.put(
            "docs",
            key,
            layout.encode_doc(
                layout.DocHeader(
                    header.version, header.seq, header.tx_time_ms + 1, header.hash, header.tx_id
                ),
                layout.doc_place(value)[1],
            ),
        ),
    )
    _failed(path, block=header.seq, document=layout.doc_id_of(key))


def test_missing_and_extra_docs_rows(copy, tmp_path):
    path, ids = copy
    key, value = _doc_row(path, ids)
    other = copy_ledger(path, tmp_path / "other.ledger")
    edit(path, lambda w: w.delete("docs", key))
    assert "no row" in _failed(path, document=layout.doc_id_of(key)).failure
    ghost = layout.doc_key(ids["A"], "G" * 22)
    edit(other, lambda w: w.put("docs", ghost, value))
    report = _failed(other, document="G" * 22)
    assert "does not imply" in report.failure


def test_index_entries(copy, tmp_path):
    path, ids = copy
    other = copy_ledger(path, tmp_path / "other.ledger")
    key = next(k for k, _ in entries(path, "index"))
    edit(path, lambda w: w.delete("index", key))
    _failed(path, document=layout.index_doc_id(key))
    index_id = key[: layout.ID_LEN].decode()
    stale = layout.index_key(index_id, layout.index_value("stale value"), layout.index_doc_id(key))
    edit(other, lambda w: w.put("index", stale, b""))
    report = _failed(other, document=layout.index_doc_id(key))
    assert "stale" in report.failure


def test_revisions_and_history_entries(copy, tmp_path):
    path, _ = copy
    other = copy_ledger(path, tmp_path / "other.ledger")
    key, value = entries(path, "revisions")[3]
    seq, idx, ms = layout.read_location(value)
    edit(path, lambda w: w.put("revisions", key, layout.location(seq, idx + 1, ms)))
    _failed(path, block=seq, document=layout.read_revision_key(key)[0])
    hkey, hvalue = entries(other, "history")[-1]
    edit(other, lambda w: w.delete("history", hkey))
    _failed(other, block=layout.read_history_key(hkey)[0])


def test_extra_revisions_entry(copy):
    path, _ = copy
    key, value = entries(path, "revisions")[0]
    doc_id, version = layout.read_revision_key(key)
    edit(path, lambda w: w.put("revisions", layout.revision_key(doc_id, version + 50), value))
    report = _failed(path, document=doc_id)
    assert "revisions holds" in report.failure


def test_catalog_rows(copy, tmp_path):
    path, ids = copy
    others = [copy_ledger(path, tmp_path / f"o{i}.ledger") for i in range(3)]
    edit(
        path,
        lambda w: w.put(
            "tables",
            layout.ident(ids["A"]),
            ion.dumps({"name": "Renamed", "status": "ACTIVE", "indexes": []}),
        ),
    )
    _failed(path, document=ids["A"])
    edit(others[0], lambda w: w.put("table_seq", layout.ident(ids["B"]), layout.u64(1)))
    assert "table_seq" in _failed(others[0], document=ids["B"]).failure
    edit(others[1], lambda w: w.put("meta", b"catalog_seq", layout.u64(0)))
    assert "catalog_seq" in _failed(others[1]).failure
    edit(others[2], lambda w: w.delete("tables", layout.ident(ids["B"])))
    _failed(others[2], document=ids["B"])


def test_catalog_table_history_is_checked(copy):
    path, _ = copy
    key = next(k for k, _ in entries(path, "history") if k.startswith(CATALOG_TABLE_ID.encode()))
    edit(path, lambda w: w.delete("history", key))
    _failed(path, block=layout.read_history_key(key)[0])


# -- saved digests -------------------------------------------------------------------------------
def _saved(path: Path) -> signing.SavedDigest:
    with ledger.connect(path, readonly=True) as db:
        d = db.digest()
    return signing.SavedDigest(d.digest, d.tip)


def test_saved_digest_of_an_earlier_tip_verifies(tmp_path):
    from proofkit import populate

    with ledger.connect(tmp_path / "l") as db:
        ids = populate(db, rounds=3)
        early = signing.SavedDigest(db.digest().digest, db.digest().tip)
        with db.transaction() as tx:
            tx.insert(ids["A"], {"later": True})
    report = verify_path(tmp_path / "l", saved_digest=early)
    assert report.verified, report.failure
    assert report.saved_digest == early


def _truncate(path: Path) -> None:
    """Remove the newest block everywhere, consistently: invisible without a digest."""
    blocks = entries(path, "blocks")
    last = len(blocks) - 1
    block = stored_blocks.decode(blocks[-1][1])
    assert block["revisions"]  # nothing in the summary to undo beyond what is below

    def cut(w):
        w.delete("blocks", layout.block_key(last))
        w.delete("block_hashes", layout.block_key(last))
        for level in range(1, 64):
            index = (last + 1 >> level) - 1
            if (last + 1) % (1 << level) == 0:
                w.delete("tree", layout.tree_key(level, index))
        ms = int(block["blockTimestamp"].timestamp() * 1000 + 0.5)
        w.delete("times", layout.times_key(ms, last))

    edit(path, cut)


def test_truncation_needs_a_saved_digest(tmp_path):
    with ledger.connect(tmp_path / "l") as db:
        with db.transaction() as tx:
            tx.create_table("T")
        with db.transaction() as tx:  # block 1: only DDL, easy to roll back by hand
            table_u = tx.create_table("U")
    saved = _saved(tmp_path / "l")
    copy = copy_ledger(tmp_path / "l", tmp_path / "cut")
    _truncate(copy)

    def roll_back_u(w):  # a careful forger also rolls the summary back
        w.delete("history", layout.history_key(CATALOG_TABLE_ID, 1, 0))
        w.delete("revisions", layout.revision_key(table_u, 0))
        w.delete("tables", layout.ident(table_u))
        w.delete("table_seq", layout.ident(table_u))
        w.put("meta", b"catalog_seq", layout.u64(0))

    edit(copy, roll_back_u)
    assert verify_path(copy).verified  # a shorter journal looks fine on its own...
    report = verify_path(copy, saved_digest=saved)
    assert not report.verified and "truncated" in report.failure  # ...not against the digest


def test_rewritten_history_fails_against_the_saved_digest(copy):
    path, _ = copy
    saved = _saved(path)
    forged = signing.SavedDigest(bytes(32), saved.tip)
    report = verify_path(path, saved_digest=forged)
    assert not report.verified and "rewritten" in report.failure
    assert report.block == saved.tip.sequence_no
    other = signing.SavedDigest(saved.digest, BlockAddress("KmA3ZZca7vAIiJAK9S5Iwl", 1))
    assert "another ledger" in verify_path(path, saved_digest=other).failure


def test_docs_row_of_wrong_length_header_is_located(copy):
    path, ids = copy
    key, _ = _doc_row(path, ids)
    edit(path, lambda w: w.put("docs", key, b"\0" * 5))
    report = _failed(path, document=layout.doc_id_of(key))
    assert "malformed" in report.failure
    assert struct.calcsize(">IQq32s22s") > 5
