"""The control plane through the AWS CLI 1.42.60 and boto3 1.40.60, unmodified: the
ledger life cycle with deletion protection and tags, durable across restarts; GetDigest,
GetRevision and GetBlock verified client-side; every SigV4 refusal."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import KEY_ID, OTHER_KEY_ID, OTHER_SECRET, aws, run_client

ARN = "arn:aws:qldb:us-east-1:000000000000:ledger/ops-test"


def _error(proc) -> str:
    assert proc.returncode != 0
    return proc.stderr


def test_ledger_life_cycle_with_deletion_protection_and_tags(start_server, client_python, tmp_path):
    server = start_server()
    created = aws(
        client_python, server, "qldb", "create-ledger", "--name", "ops-test",
        "--permissions-mode", "STANDARD", "--tags", "team=audit,env=dev",
    )
    assert created["State"] == "CREATING" and created["Arn"] == ARN
    assert created["DeletionProtection"] is True and created["PermissionsMode"] == "STANDARD"
    described = aws(client_python, server, "qldb", "describe-ledger", "--name", "ops-test")
    assert described["State"] == "ACTIVE"
    assert described["EncryptionDescription"]["EncryptionStatus"] == "ENABLED"
    again = aws(client_python, server, "qldb", "create-ledger", "--name", "ops-test", "--permissions-mode", "STANDARD", check=False)
    assert "ResourceAlreadyExistsException" in _error(again)
    aws(client_python, server, "qldb", "create-ledger", "--name", "second", "--permissions-mode", "ALLOW_ALL", "--no-deletion-protection")

    refused = aws(client_python, server, "qldb", "delete-ledger", "--name", "ops-test", check=False)
    assert "ResourcePreconditionNotMetException" in _error(refused)
    assert (tmp_path / "root" / "ops-test" / "data.mdb").exists()

    aws(client_python, server, "qldb", "tag-resource", "--resource-arn", ARN, "--tags", "owner=ann")
    aws(client_python, server, "qldb", "untag-resource", "--resource-arn", ARN, "--tag-keys", "env", "team")
    assert aws(client_python, server, "qldb", "list-tags-for-resource", "--resource-arn", ARN) == {"Tags": {"owner": "ann"}}
    mode = aws(client_python, server, "qldb", "update-ledger-permissions-mode", "--name", "ops-test", "--permissions-mode", "ALLOW_ALL")
    assert mode == {"Name": "ops-test", "Arn": ARN, "PermissionsMode": "ALLOW_ALL"}

    page = aws(client_python, server, "qldb", "list-ledgers", "--max-results", "1")
    assert [x["Name"] for x in page["Ledgers"]] == ["ops-test"] and page["NextToken"]
    rest = aws(client_python, server, "qldb", "list-ledgers", "--max-results", "1", "--next-token", page["NextToken"])
    assert [x["Name"] for x in rest["Ledgers"]] == ["second"] and "NextToken" not in rest

    server.restart()  # everything QLDB keeps about a ledger is durable under ROOT
    described = aws(client_python, server, "qldb", "describe-ledger", "--name", "ops-test")
    assert described["PermissionsMode"] == "ALLOW_ALL" and described["DeletionProtection"] is True
    assert described["CreationDateTime"] == created["CreationDateTime"]
    assert aws(client_python, server, "qldb", "list-tags-for-resource", "--resource-arn", ARN) == {"Tags": {"owner": "ann"}}

    updated = aws(client_python, server, "qldb", "update-ledger", "--name", "ops-test", "--no-deletion-protection")
    assert updated["DeletionProtection"] is False
    aws(client_python, server, "qldb", "delete-ledger", "--name", "ops-test")
    gone = aws(client_python, server, "qldb", "describe-ledger", "--name", "ops-test", check=False)
    assert "ResourceNotFoundException" in _error(gone)
    assert not (tmp_path / "root" / "ops-test").exists()
    assert [x["Name"] for x in aws(client_python, server, "qldb", "list-ledgers")["Ledgers"]] == ["second"]
    streams = aws(client_python, server, "qldb", "list-journal-kinesis-streams-for-ledger", "--ledger-name", "second")
    assert streams == {"Streams": []}  # the stream operations: tests/server/test_server_streams.py


def test_a_ledger_put_under_root_by_hand_is_served(start_server, client_python, tmp_path):
    import ledger

    root = tmp_path / "root"
    root.mkdir()
    with ledger.connect(root / "handmade") as db:
        db.execute("CREATE TABLE T")
        db.execute("INSERT INTO T ?", {"a": 1})
    server = start_server(root=root)
    described = aws(client_python, server, "qldb", "describe-ledger", "--name", "handmade")
    assert described["State"] == "ACTIVE" and described["DeletionProtection"] is True
    digest = aws(client_python, server, "qldb", "get-digest", "--name", "handmade")
    assert "sequenceNo:1" in digest["DigestTipAddress"]["IonText"]


def test_digest_revision_and_block_verified_client_side(start_server, client_python):
    server = start_server()
    aws(client_python, server, "qldb", "create-ledger", "--name", "audit", "--permissions-mode", "ALLOW_ALL")
    empty = aws(client_python, server, "qldb", "get-digest", "--name", "audit", check=False)
    assert "ResourcePreconditionNotMetException" in _error(empty)
    seen = run_client(client_python, server, "proofs_app.py", "audit")
    assert seen["digest_len"] == 32
    assert seen["revision_ok"] and seen["block_ok"]
    assert not seen["tampered_ok"]
    assert seen["revision_vin"] == "V1" and seen["block_seq"] == 2
    assert seen["no_proof_keys"] == ["Block"]
    # the AWS CLI reaches the same proofs; a wrong address is InvalidParameterException
    bad = aws(client_python, server, "qldb", "get-block", "--name", "audit",
              "--block-address", 'IonText="{strandId:\\"nope\\",sequenceNo:1}"', check=False)
    assert "InvalidParameterException" in _error(bad)


def test_every_sigv4_refusal_reaches_the_clients_and_changes_nothing(start_server, client_python):
    server = start_server()
    aws(client_python, server, "qldb", "create-ledger", "--name", "signed", "--permissions-mode", "ALLOW_ALL")
    seen = run_client(client_python, server, "refusals_app.py", "signed")
    assert seen["signed"] == "OK" and seen["session_token"] == "OK" and seen["session_signed"] == "OK"
    assert seen["unsigned"] == "MissingAuthenticationTokenException"
    assert seen["unknown_key"] == "UnrecognizedClientException"
    assert seen["wrong_secret"] == "InvalidSignatureException"
    assert seen["session_wrong_secret"] == "InvalidSignatureException"
    assert seen["expired"] == "InvalidSignatureException"
    assert seen["tampered_body"] == [403, "InvalidSignatureException"]
    assert seen["untampered_body"] == [200, "OK"]
    assert seen["ledgers"] == ["signed", "tampered"]  # the tampered request created nothing
    # the second profile's key signs too
    other = aws(client_python, server, "qldb", "list-ledgers", env=server.client_env(OTHER_KEY_ID, OTHER_SECRET))
    assert len(other["Ledgers"]) == 2
    assert KEY_ID not in server.log()  # keys are not logged


def test_requests_are_logged_one_line_each(start_server, client_python):
    server = start_server()
    aws(client_python, server, "qldb", "list-ledgers")
    aws(client_python, server, "qldb", "describe-ledger", "--name", "nothing", check=False)
    lines = [line for line in server.log().splitlines() if " GET " in line]
    assert len(lines) == 2
    assert lines[0].split()[1:5] == ["GET", "ListLedgers", "-", "200"]
    assert lines[1].split()[1:6] == ["GET", "DescribeLedger", "nothing", "404", "ResourceNotFoundException"]
    assert lines[1].endswith("ms")
    assert json.dumps  # (log lines are plain text, not JSON)
    assert Path(server.log_path).exists()
