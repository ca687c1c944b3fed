"""Verification on the command line: check-proof with only the files, \\proof checks,
--public-key needs --digest, success says what was checked, base64 hashes, and
verify-export on a directory that is not an export."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger import ion
from ledger.proof import verify


def _saved(sample: Any, run: Any, tmp_path: Path, *sign: str) -> tuple[Path, dict[str, Any]]:
    digest = tmp_path / "digest.json"
    result = run("get-digest", sample.path, *sign)
    assert result.exit_code == 0, result.stderr
    digest.write_text(result.stdout)
    return digest, json.loads(result.stdout)


def _revision(sample: Any) -> tuple[str, str, str]:
    with ledger.connect(sample.path) as db:
        (row,) = db.execute(
            "SELECT r.blockAddress, r.metadata.id FROM _ql_committed_Person AS r"
        ).fetchall()
        tip = db.digest().tip_ion_text()
    return ion.dumps_text(row["blockAddress"]), str(row["id"]), tip


def test_check_proof_with_only_the_saved_files(sample: Any, run: Any, tmp_path: Path) -> None:
    digest, saved = _saved(sample, run, tmp_path)
    address, doc_id, tip = _revision(sample)
    proof = tmp_path / "proof.json"
    out = run(
        "get-revision",
        sample.path,
        "--block-address",
        address,
        "--document-id",
        doc_id,
        "--digest-tip-address",
        tip,
    )
    proof.write_text(out.stdout)
    block = tmp_path / "block.json"
    block.write_text(
        run(
            "get-block", sample.path, "--block-address", address, "--digest-tip-address", tip
        ).stdout
    )
    moved = tmp_path / "auditor"  # the ledger is gone: only the files are left
    sample.path.rename(moved)
    ok = run("check-proof", proof, "--digest", digest)
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith(
        f"proof valid: the revision of document {doc_id} is covered by the digest at {tip}\n"
    )
    assert f"digest {saved['Digest']}\n" in ok.stdout
    assert run("check-proof", block, "--digest", digest).exit_code == 0
    tampered = json.loads(proof.read_text())
    tampered["Revision"]["IonText"] = tampered["Revision"]["IonText"].replace("Raul", "Paul")
    proof.write_text(json.dumps(tampered))
    bad = run("check-proof", proof, "--digest", digest)
    assert bad.exit_code == 3 and "revision hash does not match its contents" in bad.stderr


def test_check_proof_refuses_files_that_are_not_proofs(
    sample: Any, run: Any, tmp_path: Path
) -> None:
    digest, _ = _saved(sample, run, tmp_path)
    result = run("check-proof", digest, "--digest", digest)
    assert result.exit_code == 1 and "holds no Revision or Block" in result.stderr


def test_public_key_without_digest_is_a_usage_error(sample: Any, run: Any, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    assert run("keygen", key).exit_code == 0
    result = run("verify", sample.path, "--public-key", f"{key}.pub")
    assert result.exit_code == 2 and "add --digest FILE" in result.stderr


def test_verify_success_says_what_was_checked(sample: Any, run: Any, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    run("keygen", key)
    digest, saved = _saved(sample, run, tmp_path, "--sign", str(key))
    result = run("verify", sample.path, "--digest", digest, "--public-key", f"{key}.pub")
    assert result.exit_code == 0, result.stderr
    assert "extends the saved digest at sequenceNo" in result.stdout
    assert f"signature by {key}.pub (key id " in result.stdout and ") valid" in result.stdout


def test_hashes_print_in_base64(sample: Any, run: Any, tmp_path: Path) -> None:
    digest, saved = _saved(sample, run, tmp_path)
    text = run("verify", sample.path).stdout
    assert base64.b64decode(text.split("digest ")[1].split()[0]) == base64.b64decode(
        saved["Digest"]
    )
    one, two = base64.b64encode(b"\x01" * 32).decode(), base64.b64encode(b"\x02" * 32).decode()
    error = ledger.VerificationError("x", expected=b"\x01" * 32, computed=b"\x02" * 32)
    assert str(error) == f"x: expected {one}, computed {two}"
    assert verify.jsonable(b"\x03" * 32) == base64.b64encode(b"\x03" * 32).decode()


@pytest.mark.parametrize("kind", ["empty", "other files", "a ledger"])
def test_verify_export_on_a_directory_that_is_not_an_export(
    sample: Any, run: Any, tmp_path: Path, kind: str
) -> None:
    where = sample.path if kind == "a ledger" else tmp_path / "d"
    if kind != "a ledger":
        where.mkdir()
    if kind == "other files":
        (where / "notes.txt").write_text("hello\n")
    result = run("verify-export", where)
    assert result.exit_code in (1, 2) and "is not a journal export" in result.stderr


def test_python_proof_checks_accept_the_digest_object(sample: Any) -> None:
    address, doc_id, _ = _revision(sample)
    with ledger.connect(sample.path) as db:
        digest = db.digest()
        revision, proof = db.get_revision(
            ledger.ion.loads(address) and _address(address), doc_id, digest.tip
        )
        block, block_proof = db.get_block(_address(address), digest.tip)
    verify.check_revision_proof(revision, proof or [], digest)
    verify.check_block_proof(block, block_proof or [], digest)
    verify.check_revision_proof(revision, proof or [], digest.digest)  # bytes still work
    with pytest.raises(ledger.DataError, match="a digest is bytes or a Digest"):
        verify.check_revision_proof(revision, proof or [], "not a digest")


def _address(text: str) -> Any:
    from ledger.proof import proofs

    return proofs.parse_address(text)
