"""Real Amazon QLDB output (../shared/vectors/qldb, from the aws-cli examples) through
the ledger's own code paths: proof parsing and printing, the proof checkers, the
GetRevision proof built from a block, saved-digest loading, and a one-block export."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from proofkit import ref_fold

from ledger import ion
from ledger.errors import DataError, VerificationError
from ledger.proof import export, proofs, signing, verify

STRAND = "KmA3ZZca7vAIiJAK9S5Iwl"


def _block(qldb):
    return ion.loads(qldb["get-block.output"]["Block"]["IonText"])


def _digest(qldb) -> bytes:
    return base64.b64decode(qldb["get-digest.output"]["Digest"])


def test_wire_forms_round_trip_exactly(qldb):
    for name in ("get-block.output", "get-revision.output"):
        text = qldb[name]["Proof"]["IonText"]
        assert proofs.proof_ion_text(proofs.parse_proof(text)) == text
    address = qldb["get-block.request"]["request"]["BlockAddress"]["IonText"]
    assert proofs.address_ion_text(proofs.parse_address(address)) == address
    tip = proofs.parse_address(qldb["get-digest.output"]["DigestTipAddress"]["IonText"])
    assert (tip.strand_id, tip.sequence_no) == (STRAND, 123)


def test_real_block_proof_folds_to_real_digest(qldb):
    block = _block(qldb)
    proof = proofs.parse_proof(qldb["get-block.output"]["Proof"]["IonText"])
    verify.check_block_proof(block, proof, _digest(qldb))
    assert ref_fold(proof, bytes(block["blockHash"])) == _digest(qldb)


def test_real_revision_proof_folds_to_real_digest(qldb):
    revision = ion.loads(qldb["get-revision.output"]["Revision"]["IonText"])
    proof = proofs.parse_proof(qldb["get-revision.output"]["Proof"]["IonText"])
    verify.check_revision_proof(revision, proof, _digest(qldb))
    assert ref_fold(proof, bytes(revision["hash"])) == _digest(qldb)


def test_revision_proof_built_from_the_real_block_equals_qldbs(qldb):
    block = _block(qldb)
    block_proof = proofs.parse_proof(qldb["get-block.output"]["Proof"]["IonText"])
    doc_id = qldb["get-revision.request"]["request"]["DocumentId"]
    built = proofs.revision_proof_in(block, doc_id, block_proof)
    assert proofs.proof_ion_text(built) == qldb["get-revision.output"]["Proof"]["IonText"]


def test_checkers_raise_tamper_for_wrong_digest_and_malformed_for_bad_hash(qldb):
    block = _block(qldb)
    proof = proofs.parse_proof(qldb["get-block.output"]["Proof"]["IonText"])
    with pytest.raises(VerificationError, match="does not fold") as info:
        verify.check_block_proof(block, proof[:-1], _digest(qldb))
    assert info.value.block == 100 and info.value.expected == _digest(qldb)
    with pytest.raises(DataError):
        verify.check_block_proof(block, [*proof[:-1], proof[-1][:31]], _digest(qldb))
    revision = ion.loads(qldb["get-revision.output"]["Revision"]["IonText"])
    revision["data"]["City"] = "Tacoma"
    with pytest.raises(VerificationError, match="revision hash") as info:
        verify.check_revision_proof(revision, [], _digest(qldb))
    assert info.value.document == "JUJgkIcNbhS2goq8RqLuZ4"


def test_real_block_passes_the_journal_block_checks(qldb):
    block = _block(qldb)
    assert verify.check_block_contents(block, 100, STRAND, None) == bytes(block["blockHash"])
    with pytest.raises(VerificationError, match="chain"):
        verify.check_block_contents(block, 100, STRAND, b"\0" * 32)


def test_qldb_get_digest_output_loads_as_a_saved_digest(qldb, tmp_path):
    path = tmp_path / "digest.json"
    path.write_text(json.dumps(qldb["get-digest.output"]))
    saved = signing.load_saved_digest(path)
    assert saved.digest == _digest(qldb) and saved.tip.sequence_no == 123 and not saved.signed
    assert saved.to_qldb_json() == qldb["get-digest.output"]


def _one_block_export(folder: Path, block_text: str) -> Path:
    folder.mkdir()
    (folder / "EXPORT0000000000000001.started.manifest").write_text(
        '{ledgerName:"vehicle-registration",exportId:"EXPORT0000000000000001",'
        "inclusiveStartTime:2019-09-16T19:00:00.000Z,exclusiveEndTime:2019-09-16T20:00:00.000Z,"
        'bucket:"b",prefix:"journalExport",objectEncryptionType:"NO_ENCRYPTION",outputFormat:"ION_TEXT"}'
    )
    key = f"journalExport/2019/09/16/19/{STRAND}.100-100.ion"
    (folder / "2019/09/16/19").mkdir(parents=True)
    (folder / "2019/09/16/19" / f"{STRAND}.100-100.ion").write_text(block_text + "\n")
    (folder / f"EXPORT0000000000000001.{STRAND}.completed.manifest").write_text(
        f'{{keys:["{key}"]}}'
    )
    return folder


def test_one_block_export_of_the_real_block_verifies(qldb, tmp_path):
    folder = _one_block_export(tmp_path / "export", qldb["get-block.output"]["Block"]["IonText"])
    report = export.verify_export(folder)
    assert report.verified, report.failure
    assert (report.blocks, report.first, report.last, report.strand_id) == (1, 100, 100, STRAND)
    assert report.digest is None and report.format == "ION_TEXT"
    assert any("block 0" in note for note in report.notes)


def test_one_block_export_with_a_changed_document_is_refused(qldb, tmp_path):
    text = qldb["get-block.output"]["Block"]["IonText"].replace('City:"Everett"', 'City:"Tacoma"')
    report = export.verify_export(_one_block_export(tmp_path / "export", text))
    assert not report.verified
    assert report.block == 100 and report.document == "JUJgkIcNbhS2goq8RqLuZ4"
    assert "revision hash" in report.failure


def test_a_time_ranged_real_export_cannot_be_imported(qldb, tmp_path):
    folder = _one_block_export(tmp_path / "export", qldb["get-block.output"]["Block"]["IonText"])
    with pytest.raises(DataError, match="block 0"):
        export.import_export(folder, tmp_path / "imported")
    assert not (tmp_path / "imported").exists()
