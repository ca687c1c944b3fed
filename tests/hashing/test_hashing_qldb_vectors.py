"""Known answers from real QLDB output and the official drivers (../shared/vectors/qldb/).

get-block / get-revision / get-digest: a real block (seq 100) of ledger
"vehicle-registration", its block proof and a revision proof, both to the digest at tip
123 (aws-cli examples).  commit_digests.json: the .NET driver's unit tests.
dot_example.json: the Rust driver's unit test, plus an example where a signed compare
and an unsigned one disagree.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from hashkit import vectors_dir

from ledger.errors import VerificationError
from ledger.hashing import (
    block_hashes,
    commit_digest,
    dot,
    fold,
    ion_hash,
    merkle_proof,
    merkle_root,
    revision_hash,
    revision_proof,
    statement_digest,
    verify_block,
)


def _json(name: str) -> Any:
    path: Path = vectors_dir() / "qldb" / name
    return json.loads(path.read_text("utf-8"))


def _blobs(ion_text: str) -> list[bytes]:
    return [bytes(b) for b in simpleion.loads(ion_text)]


@pytest.fixture
def block() -> Any:
    return simpleion.loads(_json("get-block.output.json")["Block"]["IonText"])


@pytest.fixture
def block_proof() -> list[bytes]:
    return _blobs(_json("get-block.output.json")["Proof"]["IonText"])


@pytest.fixture
def digest() -> bytes:
    return base64.b64decode(_json("get-digest.output.json")["Digest"])


def test_revision_hash_is_dot_of_metadata_and_data(block: Any) -> None:
    r = block["revisions"][0]
    assert revision_hash(r["metadata"], r["data"]) == bytes(r["hash"])
    assert dot(ion_hash(r["metadata"]), ion_hash(r["data"])) == bytes(r["hash"])


def test_redacted_revision_hashes_with_its_data_hash(block: Any) -> None:
    r = block["revisions"][0]
    assert revision_hash(r["metadata"], data_hash=ion_hash(r["data"])) == bytes(r["hash"])


def test_entries_hash_list_holds_transaction_info_and_revisions_root(block: Any) -> None:
    entries = [bytes(e) for e in block["entriesHashList"]]
    assert ion_hash(block["transactionInfo"]) in entries
    assert merkle_root([bytes(r["hash"]) for r in block["revisions"]]) in entries
    # QLDB's own order: the revisions root second, H(transactionInfo) last.
    assert entries.index(ion_hash(block["transactionInfo"])) == 3
    assert entries.index(bytes(block["revisions"][0]["hash"])) == 1


def test_entries_hash_and_block_hash(block: Any) -> None:
    entries = [bytes(e) for e in block["entriesHashList"]]
    assert merkle_root(entries) == bytes(block["entriesHash"])
    assert dot(bytes(block["entriesHash"]), bytes(block["previousBlockHash"])) == bytes(
        block["blockHash"]
    )


def test_block_proof_folds_to_the_digest(
    block: Any, block_proof: list[bytes], digest: bytes
) -> None:
    assert len(block_proof) == 7  # leaf 100 of a 124-leaf tree
    assert fold(block_proof, bytes(block["blockHash"])) == digest


def test_revision_proof_folds_to_the_digest(digest: bytes) -> None:
    output = _json("get-revision.output.json")
    revision = simpleion.loads(output["Revision"]["IonText"])
    proof = _blobs(output["Proof"]["IonText"])
    assert fold(proof, bytes(revision["hash"])) == digest


def test_revision_proof_is_built_exactly_as_qldb_does(block: Any, block_proof: list[bytes]) -> None:
    expected = _blobs(_json("get-revision.output.json")["Proof"]["IonText"])
    built = revision_proof(
        [bytes(r["hash"]) for r in block["revisions"]],
        0,
        [bytes(e) for e in block["entriesHashList"]],
        bytes(block["previousBlockHash"]),
        block_proof,
    )
    assert built == expected


def test_proof_shape_inside_the_block(block: Any) -> None:
    """The revision proof's first two hashes are its siblings in entriesHashList."""
    entries = [bytes(e) for e in block["entriesHashList"]]
    assert merkle_proof(entries, 1) == [entries[0], dot(entries[2], entries[3])]


def test_statement_digest_without_parameters(block: Any) -> None:
    statement = block["transactionInfo"]["statements"][0]
    assert statement_digest(statement["statement"]) == bytes(statement["statementDigest"])


def test_verify_block_accepts_the_real_block(block: Any) -> None:
    verify_block(block)


def test_verify_block_catches_an_edited_document(block: Any) -> None:
    block["revisions"][0]["data"]["City"] = "Seattle"
    with pytest.raises(VerificationError, match="revision hash") as caught:
        verify_block(block)
    assert caught.value.block == 100
    assert caught.value.document == "JUJgkIcNbhS2goq8RqLuZ4"


def test_verify_block_catches_a_wrong_block_hash(block: Any) -> None:
    block["blockHash"] = bytes(32)
    with pytest.raises(VerificationError, match="blockHash"):
        verify_block(block)


def test_our_block_layout_differs_but_verifies_the_same_way(block: Any) -> None:
    """Our entriesHashList has no QLDB-internal entries, so our hashes differ; shape holds."""
    ours = block_hashes(
        block["transactionInfo"],
        [bytes(r["hash"]) for r in block["revisions"]],
        bytes(block["previousBlockHash"]),
    )
    assert ours.entries_hash_list == [
        ion_hash(block["transactionInfo"]),
        bytes(block["revisions"][0]["hash"]),
    ]
    assert ours.block_hash == dot(ours.entries_hash, bytes(block["previousBlockHash"]))


def _commit_vectors() -> list[Any]:
    return list(_json("commit_digests.json")["vectors"])


def test_commit_digests() -> None:
    vectors = _commit_vectors()
    assert len(vectors) == 3
    for v in vectors:
        statements = [(s["statement"], s["parameters"]) for s in v["statements"]]
        assert commit_digest(v["transactionId"], statements) == bytes(v["commitDigest_bytes"])


def test_dot_examples() -> None:
    example = _json("dot_example.json")
    h1, h2 = bytes.fromhex(example["h1_hex"]), bytes.fromhex(example["h2_hex"])
    assert dot(h1, h2).hex() == example["dot_hex"]
    extra = example["extra_own_example"]
    a, b = bytes.fromhex(extra["a_hex"]), bytes.fromhex(extra["b_hex"])
    assert dot(a, b).hex() == dot(b, a).hex() == extra["dot_hex"]
    assert dot(a, b).hex() != extra["wrong_if_unsigned_or_big_endian_compare_hex"]
