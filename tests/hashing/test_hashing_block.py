"""Revision and block hashes, GetRevision proofs over a whole chain, commit digests."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

import pytest

from ledger.errors import DataError, VerificationError
from ledger.hashing import (
    block_hashes,
    commit_digest,
    dot,
    entries_hash_list,
    fold,
    ion_hash,
    merkle_root,
    revision_hash,
    revision_proof,
    statement_digest,
    tree,
    verify_block,
)
from ledger.hashing.tree import MemoryNodeStore

STRAND = "KmA3ZZca7vAIiJAK9S5Iwl"


def _metadata(doc: str, version: int, seq: int) -> dict[str, Any]:
    moment = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(seconds=seq)
    return {"id": doc, "version": version, "txTime": moment, "txId": f"tx{seq:020d}"}


def make_block(seq: int, previous: bytes, n_revisions: int) -> dict[str, Any]:
    """A block in the ledger's layout, revisions included."""
    revisions = []
    for r in range(n_revisions):
        metadata = _metadata(f"doc{r}", seq, seq)
        data = {"n": r, "amount": Decimal("9.99"), "tags": ["a", "b"]}
        revisions.append(
            {
                "blockAddress": {"strandId": STRAND, "sequenceNo": seq},
                "hash": revision_hash(metadata, data),
                "data": data,
                "metadata": metadata,
            }
        )
    info = {"statements": [{"statement": f"INSERT #{seq}"}], "documents": {}}
    hashes = block_hashes(info, [r["hash"] for r in revisions], previous)
    block: dict[str, Any] = {
        "blockAddress": {"strandId": STRAND, "sequenceNo": seq},
        "blockHash": hashes.block_hash,
        "entriesHash": hashes.entries_hash,
        "entriesHashList": hashes.entries_hash_list,
        "transactionInfo": info,
        "revisions": revisions,
    }
    if previous:
        block["previousBlockHash"] = previous
    return block


def make_chain(n: int) -> tuple[list[dict[str, Any]], MemoryNodeStore]:
    blocks: list[dict[str, Any]] = []
    store = MemoryNodeStore()
    previous = b""
    for seq in range(n):
        block = make_block(seq, previous, n_revisions=seq % 4)
        tree.append_leaf(store, seq, block["blockHash"])
        blocks.append(block)
        previous = block["blockHash"]
    return blocks, store


def test_genesis_block_hash_is_its_entries_hash() -> None:
    genesis = make_block(0, b"", 2)
    assert genesis["blockHash"] == genesis["entriesHash"]
    assert "previousBlockHash" not in genesis


def test_entries_hash_list_order() -> None:
    info, redaction = {"statements": []}, {"revisions": []}
    revs = [ion_hash(1), ion_hash(2), ion_hash(3)]
    assert entries_hash_list(info) == [ion_hash(info)]
    assert entries_hash_list(info, revs) == [ion_hash(info), merkle_root(revs)]
    assert entries_hash_list(info, revs, redaction) == [
        ion_hash(info),
        merkle_root(revs),
        ion_hash(redaction),
    ]


def test_block_hashes_fields() -> None:
    info = {"statements": []}
    revs = [ion_hash(1), ion_hash(2)]
    previous = ion_hash("previous")
    hashes = block_hashes(info, revs, previous)
    assert hashes.revisions_root == dot(revs[0], revs[1])
    assert hashes.entries_hash == merkle_root(hashes.entries_hash_list)
    assert hashes.block_hash == dot(hashes.entries_hash, previous)
    assert block_hashes(info).revisions_root == b""


def test_revision_hash_variants() -> None:
    metadata = _metadata("doc", 0, 0)
    data = {"a": 1}
    assert revision_hash(metadata, data) == dot(ion_hash(metadata), ion_hash(data))
    assert revision_hash(metadata, data_hash=ion_hash(data)) == revision_hash(metadata, data)
    assert revision_hash(metadata) == ion_hash(metadata)  # a deleted document's last revision
    with pytest.raises(DataError):
        revision_hash(metadata, data, ion_hash(data))


@pytest.mark.parametrize("tip", [0, 1, 2, 6, 7, 12, 19])
def test_every_revision_proof_folds_to_every_later_digest(tip: int) -> None:
    blocks, store = make_chain(20)
    digest = tree.root(store, tip + 1)
    for seq in range(tip + 1):
        block = blocks[seq]
        block_proof = tree.inclusion_proof(store, seq, tip + 1)
        assert fold(block_proof, block["blockHash"]) == digest
        hashes = [r["hash"] for r in block["revisions"]]
        for i, r in enumerate(block["revisions"]):
            proof = revision_proof(
                hashes,
                i,
                block["entriesHashList"],
                block.get("previousBlockHash", b""),
                block_proof,
            )
            assert fold(proof, r["hash"]) == digest, (seq, i)
            assert fold(proof, revision_hash(r["metadata"], {"tampered": True})) != digest


def test_revision_proof_needs_the_revisions_root_in_the_entries() -> None:
    with pytest.raises(DataError, match="revisions root"):
        revision_proof([ion_hash(1)], 0, [ion_hash(2)], b"", [])


def test_verify_block_accepts_our_blocks() -> None:
    blocks, _ = make_chain(8)
    for block in blocks:
        verify_block(block)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda b: b["transactionInfo"].update(extra=1), "transactionInfo"),
        (lambda b: b["revisions"][0]["data"].update(n=99), "revision hash"),
        (lambda b: b["revisions"][0]["metadata"].update(version=9), "revision hash"),
        (lambda b: b["revisions"].pop(), "revisions root"),
        (lambda b: b["entriesHashList"].append(ion_hash("x")), "entriesHash"),
        (lambda b: b.update(previousBlockHash=ion_hash("forged")), "blockHash"),
        (lambda b: b.pop("entriesHash"), "no entriesHash"),
    ],
)
def test_verify_block_catches(spoil: Any, message: str) -> None:
    block = make_chain(4)[0][3]  # 3 revisions
    spoil(block)
    with pytest.raises(VerificationError, match=message) as caught:
        verify_block(block)
    assert caught.value.block == 3


def test_verify_block_with_a_redacted_revision_and_redaction_info() -> None:
    metadata = _metadata("doc", 0, 0)
    data = {"secret": "x"}
    redaction = {"revisions": [{"documentId": "doc", "version": 0}]}
    info = {"statements": []}
    revision = {"hash": revision_hash(metadata, data), "dataHash": ion_hash(data)}
    revision["metadata"] = metadata
    hashes = block_hashes(info, [revision["hash"]], b"", redaction)
    block = {
        "blockHash": hashes.block_hash,
        "entriesHash": hashes.entries_hash,
        "entriesHashList": hashes.entries_hash_list,
        "transactionInfo": info,
        "redactionInfo": redaction,
        "revisions": [revision],
    }
    verify_block(block)
    revision["dataHash"] = ion_hash({"secret": "y"})
    with pytest.raises(VerificationError, match="revision hash"):
        verify_block(block)


def test_statement_digest_with_parameters() -> None:
    text = "INSERT INTO t ?"
    params = [{"a": 1}, "x"]
    expected = dot(dot(ion_hash(text), ion_hash(params[0])), ion_hash(params[1]))
    assert statement_digest(text, params) == expected
    assert statement_digest(text, params[::-1]) != expected  # order matters
    assert statement_digest(text) == ion_hash(text)


def test_commit_digest_folds_statement_digests() -> None:
    statements = [("SELECT 1", []), ("INSERT INTO t ?", [{"a": 1}])]
    seed = ion_hash("txid")
    for text, params in statements:
        seed = dot(seed, statement_digest(text, params))
    assert commit_digest("txid", statements) == seed
    assert commit_digest("txid", []) == ion_hash("txid")
