"""The proof commands through click's CliRunner, on a fresh group (not main.py): QLDB's
output shapes exactly, and exit codes 0 ok, 1 could not run, 2 usage, 3 failed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from proofkit import copy_ledger, edit, ref_fold

import ledger
from ledger import ion
from ledger.cli.journal_commands import COMMANDS, register
from ledger.proof import proofs
from ledger.storage import layout


@pytest.fixture
def group() -> click.Group:
    g = click.Group("ledger")
    register(g)
    return g


@pytest.fixture
def run(group):
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(group, [str(a) for a in args])
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return invoke


@pytest.fixture
def sample(base_ledger, tmp_path):
    path, ids = base_ledger
    copy = copy_ledger(path, tmp_path / "s.ledger")
    with ledger.connect(copy, readonly=True) as db:
        digest = db.digest()
    return copy, ids, digest


def _address(strand: str, seq: int) -> str:
    return f'{{strandId:"{strand}",sequenceNo:{seq}}}'


def test_every_command_is_registered_with_examples(group):
    assert set(group.commands) == {
        "get-digest",
        "get-block",
        "get-revision",
        "prove-consistency",
        "verify",
        "export",
        "import",
        "verify-export",
        "keygen",
    }
    for command in COMMANDS:
        assert "Example" in (command.help or ""), command.name


def test_get_digest_shape(run, sample):
    path, _, digest = sample
    out = json.loads(run("get-digest", path).stdout)
    assert out == {
        "Digest": base64.b64encode(digest.digest).decode(),
        "DigestTipAddress": {"IonText": digest.tip_ion_text()},
    }


def test_get_block_shape_and_proof(run, sample):
    path, _, digest = sample
    strand, tip = digest.tip.strand_id, digest.tip.sequence_no
    out = json.loads(
        run(
            "get-block",
            path,
            "--block-address",
            _address(strand, 3),
            "--digest-tip-address",
            _address(strand, tip),
        ).stdout
    )
    assert set(out) == {"Block", "Proof"} and set(out["Block"]) == {"IonText"}
    block = ion.loads(out["Block"]["IonText"])
    proof = proofs.parse_proof(out["Proof"]["IonText"])
    assert out["Proof"]["IonText"].startswith("[{{")
    assert ref_fold(proof, bytes(block["blockHash"])) == digest.digest
    no_tip = json.loads(run("get-block", path, "--block-address", _address(strand, 3)).stdout)
    assert set(no_tip) == {"Block"}


def test_get_revision_shape_and_proof(run, sample):
    path, ids, digest = sample
    strand, tip = digest.tip.strand_id, digest.tip.sequence_no
    doc_id = ids["redacted"][1]
    seq = ids["redacted"][0] + 1  # its second revision, not redacted
    out = json.loads(
        run(
            "get-revision",
            path,
            "--block-address",
            _address(strand, seq),
            "--document-id",
            doc_id,
            "--digest-tip-address",
            _address(strand, tip),
        ).stdout
    )
    assert set(out) == {"Revision", "Proof"}
    revision = ion.loads(out["Revision"]["IonText"])
    assert revision["metadata"]["id"] == doc_id
    assert (
        ref_fold(proofs.parse_proof(out["Proof"]["IonText"]), bytes(revision["hash"]))
        == digest.digest
    )


def test_bad_requests(run, sample):
    path, _, digest = sample
    strand = digest.tip.strand_id
    assert "Invalid value" in run("get-block", path, "--block-address", "{oops", code=2).output
    assert (
        "strand"
        in run(
            "get-block", path, "--block-address", _address("KmA3ZZca7vAIiJAK9S5Iwl", 1), code=1
        ).output
    )
    assert (
        "beyond the journal"
        in run("get-block", path, "--block-address", _address(strand, 999), code=1).output
    )
    assert (
        "before block"
        in run(
            "get-block",
            path,
            "--block-address",
            _address(strand, 5),
            "--digest-tip-address",
            _address(strand, 4),
            code=1,
        ).output
    )
    assert (
        "no revision"
        in run(
            "get-revision",
            path,
            "--block-address",
            _address(strand, 2),
            "--document-id",
            "x" * 22,
            code=1,
        ).output
    )
    run("get-block", path, code=2)  # --block-address is required
    run("verify", path.parent / "missing.ledger", code=2)


def test_verify_text_json_and_exit_codes(run, sample, tmp_path):
    path, ids, digest = sample
    assert run("verify", path).stdout.startswith("verified: ")
    out = json.loads(run("verify", path, "--json").stdout)
    assert out == {
        "verified": True,
        "blocks": digest.tip.sequence_no + 1,
        "revisions": out["revisions"],
        "digest": base64.b64encode(digest.digest).decode(),
        "tip": {"strandId": digest.tip.strand_id, "sequenceNo": digest.tip.sequence_no},
        "failure": None,
    }
    key = next(k for k, _ in _rows(path, "docs") if k.startswith(ids["A"].encode()))
    edit(path, lambda w: w.delete("docs", key))
    failed = run("verify", path, code=3)
    assert "verification FAILED" in failed.stdout and layout.doc_id_of(key) in failed.stdout
    out = json.loads(run("verify", path, "--json", code=3).stdout)
    assert out["verified"] is False and out["document"] == layout.doc_id_of(key)
    not_a_ledger = tmp_path / "empty"
    not_a_ledger.mkdir()
    assert "not a ledger" in run("verify", not_a_ledger, code=1).output


def _rows(path: Path, name: str):
    with ledger.connect(path, readonly=True) as db:
        txn = db.journal.store.read()
        try:
            return list(txn.range(name))
        finally:
            txn.close()


def test_saved_and_signed_digests(run, sample, tmp_path):
    path, _, _ = sample
    run("keygen", tmp_path / "k.pem")
    assert "already exists" in run("keygen", tmp_path / "k.pem", code=1).output
    plain, signed = tmp_path / "plain.json", tmp_path / "signed.json"
    plain.write_text(run("get-digest", path).stdout)
    signed.write_text(run("get-digest", path, "--sign", tmp_path / "k.pem").stdout)
    run("verify", path, "--digest", plain)
    run("verify", path, "--digest", signed, "--public-key", tmp_path / "k.pem.pub")
    run("prove-consistency", path, "--from-digest", signed)
    doc = json.loads(signed.read_text())
    (tmp_path / "tampered.json").write_text(
        json.dumps({**doc, "timestamp": "2000-01-01T00:00:00.000Z"})
    )
    out = json.loads(
        run("verify", path, "--digest", tmp_path / "tampered.json", "--json", code=3).stdout
    )
    assert "signature" in out["failure"]
    (tmp_path / "newer.json").write_text(json.dumps({**doc, "formatVersion": 2}))
    assert (
        "upgrade ledger" in run("verify", path, "--digest", tmp_path / "newer.json", code=1).output
    )
    assert (
        "another key"
        in run(
            "verify", path, "--digest", signed, "--public-key", _other_key(run, tmp_path), code=3
        ).output
    )


def _other_key(run, tmp_path: Path) -> Path:
    run("keygen", tmp_path / "other.pem")
    return tmp_path / "other.pem.pub"


def test_prove_consistency_shape_and_failure(run, tmp_path):
    with ledger.connect(tmp_path / "l") as db:
        with db.transaction() as tx:
            table = tx.create_table("T")
        saved = tmp_path / "d.json"
        saved.write_text(run("get-digest", tmp_path / "l").stdout)
        for i in range(5):
            with db.transaction() as tx:
                tx.insert(table, {"i": i})
        now = db.digest()
    out = json.loads(run("prove-consistency", tmp_path / "l", "--from-digest", saved).stdout)
    assert (
        set(out) == {"FromDigest", "ToDigest", "Proof", "Consistent"} and out["Consistent"] is True
    )
    assert out["ToDigest"]["Digest"] == base64.b64encode(now.digest).decode()
    assert out["FromDigest"] == json.loads(saved.read_text())
    forged = {**json.loads(saved.read_text()), "Digest": base64.b64encode(bytes(32)).decode()}
    saved.write_text(json.dumps(forged))
    failed = run("prove-consistency", tmp_path / "l", "--from-digest", saved, code=3)
    assert json.loads(failed.stdout)["Consistent"] is False


def test_export_verify_export_import(run, sample, tmp_path):
    path, _, digest = sample
    out = json.loads(run("export", path, tmp_path / "x", "--format", "ion_binary").stdout)
    assert set(out) == {
        "ExportId",
        "StrandId",
        "FirstSequenceNo",
        "LastSequenceNo",
        "Keys",
        "Directory",
    }
    assert (out["FirstSequenceNo"], out["LastSequenceNo"]) == (0, digest.tip.sequence_no)
    assert run("verify-export", tmp_path / "x").stdout.startswith("verified: ")
    report = json.loads(run("verify-export", tmp_path / "x", "--json").stdout)
    assert report["verified"] and report["digest"] == base64.b64encode(digest.digest).decode()
    imported = json.loads(run("import", tmp_path / "x", tmp_path / "i.ledger").stdout)
    assert imported["Digest"] == base64.b64encode(digest.digest).decode()
    run("verify", tmp_path / "i.ledger")
    ranged = json.loads(
        run("export", path, tmp_path / "r", "--start", "2999-01-01T00:00:00Z").stdout
    )
    assert ranged["Keys"] == [] and ranged["FirstSequenceNo"] is None
    run("export", path, tmp_path / "bad", "--start", "yesterday", code=2)
    run("export", path, tmp_path / "bad", "--format", "csv", code=2)


def test_broken_export_is_refused_with_exit_3(run, sample, tmp_path):
    path, _, _ = sample
    out = json.loads(run("export", path, tmp_path / "x").stdout)
    data = tmp_path / "x" / out["Keys"][0]
    lines = [ion.dumps_text(b) for b in ion.loads_all(data.read_bytes())]
    block = ion.loads(lines[2])
    block["revisions"][0]["hash"] = bytes(32)
    lines[2] = ion.dumps_text(block)
    data.write_text("\n".join(lines) + "\n")
    failed = run("verify-export", tmp_path / "x", code=3)
    assert "block 2" in failed.stdout
    assert "block 2" in run("import", tmp_path / "x", tmp_path / "i.ledger", code=3).output
    assert not (tmp_path / "i.ledger").exists()
