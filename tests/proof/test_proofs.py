"""GetBlock, GetRevision and consistency proofs of a generated ledger, checked by an
independent re-implementation of QLDB's verifier (proofkit.ref_*: hashlib only), at
every tip for blocks and several tips for revisions; and the errors for bad requests."""

from __future__ import annotations

import pytest
from proofkit import block_hashes, blocks, ref_fold, ref_merkle, ref_subproof

from ledger import ion
from ledger.errors import DataError, ProgrammingError, VerificationError
from ledger.proof import proofs, verify
from ledger.query.context import BlockAddress


@pytest.fixture
def snap(populated):
    db, ids = populated
    txn = db.journal.store.read()
    yield db, ids, txn
    txn.close()


def test_every_block_proof_at_every_tip_folds_to_the_reference_digest(snap):
    db, _, txn = snap
    hashes = block_hashes(db)
    for tip in range(len(hashes)):
        digest = ref_merkle(hashes[: tip + 1])
        assert db.journal.digest(txn, tip)[0] == digest
        for seq in range(tip + 1):
            block, proof = proofs.get_block(db.journal, txn, seq, tip)
            assert bytes(block["blockHash"]) == hashes[seq]
            assert ref_fold(proof, hashes[seq]) == digest, (seq, tip)


def test_every_revision_proof_folds_at_several_tips(snap):
    db, _, txn = snap
    chain = blocks(db)
    hashes = [bytes(b["blockHash"]) for b in chain]
    last = len(chain) - 1
    checked = 0
    for seq, block in enumerate(chain):
        for tip in sorted({seq, (seq + last) // 2, last}):
            digest = ref_merkle(hashes[: tip + 1])
            for revision in block["revisions"]:
                doc_id = revision["metadata"]["id"]
                got, proof = proofs.get_revision(db.journal, txn, seq, doc_id, tip)
                assert ion.dumps(got) == ion.dumps(revision)
                assert ref_fold(proof, bytes(revision["hash"])) == digest, (seq, doc_id, tip)
                verify.check_revision_proof(got, proof, digest)
                checked += 1
    assert checked > 60


def test_addresses_work_as_well_as_sequence_numbers(snap):
    db, _, txn = snap
    address = BlockAddress(db.strand_id, 3)
    tip = BlockAddress(db.strand_id, 5)
    by_address = proofs.get_block(db.journal, txn, address, tip)
    by_number = proofs.get_block(db.journal, txn, 3, 5)
    assert ion.dumps(by_address[0]) == ion.dumps(by_number[0]) and by_address[1] == by_number[1]


def test_no_tip_no_proof(snap):
    db, _, txn = snap
    block, proof = proofs.get_block(db.journal, txn, 2)
    assert proof is None and block["blockAddress"]["sequenceNo"] == 2
    doc_id = block["revisions"][0]["metadata"]["id"]
    assert proofs.get_revision(db.journal, txn, 2, doc_id)[1] is None


@pytest.mark.parametrize(
    ("block", "tip", "message"),
    [
        (5, 4, "before block 5"),
        (5, 10_000, "beyond the journal"),
        (10_000, None, "beyond the journal"),
        (-1, None, ">= 0"),
    ],
)
def test_bad_block_requests_are_refused_clearly(snap, block, tip, message):
    db, _, txn = snap
    with pytest.raises(ProgrammingError, match=message):
        proofs.get_block(db.journal, txn, block, tip)


def test_foreign_strand_and_missing_document_are_refused(snap):
    db, _, txn = snap
    with pytest.raises(ProgrammingError, match="strand"):
        proofs.get_block(db.journal, txn, BlockAddress("KmA3ZZca7vAIiJAK9S5Iwl", 1))
    with pytest.raises(ProgrammingError, match="strand"):
        proofs.get_block(db.journal, txn, 1, BlockAddress("KmA3ZZca7vAIiJAK9S5Iwl", 3))
    with pytest.raises(ProgrammingError, match="no revision of document"):
        proofs.get_revision(db.journal, txn, 1, "x" * 22, 3)


def test_malformed_addresses_and_proofs_are_data_errors():
    for text in (
        "{strandId:1,sequenceNo:2}",
        '{strandId:"a"}',
        '{strandId:"a",sequenceNo:-1}',
        "[1]",
        '{strandId:"a",sequenceNo:2.0}',
        "{{",
    ):
        with pytest.raises(DataError):
            proofs.parse_address(text)
    with pytest.raises(DataError):
        proofs.parse_proof('["not a blob"]')


def test_consistency_between_every_pair_of_digests(snap):
    db, _, txn = snap
    hashes = block_hashes(db)
    for new in range(len(hashes)):
        new_digest = ref_merkle(hashes[: new + 1])
        for old in range(new + 1):
            proof = proofs.consistency(db.journal, txn, old, new)
            assert proof == ref_subproof(old + 1, hashes[: new + 1]), (old, new)
            verify.check_consistency(ref_merkle(hashes[: old + 1]), old, new_digest, new, proof)


def test_consistency_defaults_to_the_current_tip(snap):
    db, _, txn = snap
    tip = db.journal.tip(txn).seq
    assert proofs.consistency(db.journal, txn, 3) == proofs.consistency(db.journal, txn, 3, tip)
    with pytest.raises(ProgrammingError, match="older tip"):
        proofs.consistency(db.journal, txn, 5, 3)


def _mutations(proof: list[bytes]) -> list[tuple[str, list[bytes]]]:
    """Negative proofs, as transparency-dev's golden files make them."""
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    return [
        ("bit flip", flipped),
        ("truncated", proof[:-1]),
        ("extra element", [*proof, proof[0]]),
        ("reordered", list(reversed(proof))),
    ]


def test_negative_consistency_proofs_are_tamper_not_malformed(snap):
    db, _, txn = snap
    hashes = block_hashes(db)
    old, new = 5, len(hashes) - 1
    old_digest, new_digest = ref_merkle(hashes[: old + 1]), ref_merkle(hashes)
    proof = proofs.consistency(db.journal, txn, old, new)
    assert len(proof) > 2
    for name, bad in _mutations(proof):
        with pytest.raises(VerificationError):
            verify.check_consistency(old_digest, old, new_digest, new, bad)
        assert name
    with pytest.raises(VerificationError):  # swapped roots
        verify.check_consistency(new_digest, old, old_digest, new, proof)
    with pytest.raises(VerificationError):  # wrong old size
        verify.check_consistency(old_digest, old + 1, new_digest, new, proof)
    with pytest.raises(DataError):
        verify.check_consistency(old_digest, old, new_digest, new, [proof[0][:5], *proof[1:]])
    with pytest.raises(DataError):
        verify.check_consistency(old_digest, new + 1, new_digest, new, proof)


def test_negative_block_and_revision_proofs(snap):
    db, _, txn = snap
    tip = db.journal.tip(txn).seq
    digest = db.journal.digest(txn)[0]
    block, proof = proofs.get_block(db.journal, txn, 4, tip)
    verify.check_block_proof(block, proof, digest)
    for _, bad in _mutations(proof):
        with pytest.raises(VerificationError):
            verify.check_block_proof(block, bad, digest)
    other, _ = proofs.get_block(db.journal, txn, 5, tip)
    with pytest.raises(VerificationError):  # wrong leaf
        verify.check_block_proof(other, proof, digest)
    doc_id = block["revisions"][0]["metadata"]["id"]
    revision, rproof = proofs.get_revision(db.journal, txn, 4, doc_id, tip)
    for _, bad in _mutations(rproof):
        with pytest.raises(VerificationError):
            verify.check_revision_proof(revision, bad, digest)
