"""ExportJournalToS3, DescribeJournalS3Export and ListJournalS3Exports(ForLedger) through
boto3: the export lands in QLDB's key layout under ROOT/.exports/<bucket>/, is COMPLETED
when first described, reads back with QLDB's export reader logic, and verifies."""

from __future__ import annotations

import subprocess
import sys

from conftest import aws, run_client


def test_export_read_back_and_its_hash_chain_checked(start_server, client_python, tmp_path):
    server = start_server()
    aws(client_python, server, "qldb", "create-ledger", "--name", "vehicles", "--permissions-mode", "ALLOW_ALL")
    bucket_dir = tmp_path / "root" / ".exports" / "journal-exports"
    seen = run_client(client_python, server, "export_app.py", "vehicles", str(bucket_dir))
    assert seen["status"] == "COMPLETED" and seen["format"] == "ION_TEXT"
    assert seen["for_ledger"] == [seen["export_id"]] == seen["everywhere"]
    assert seen["started_ledger"] == "vehicles" and seen["started_bucket"] == "journal-exports"
    assert seen["keys_prefixed"]
    assert seen["sequence"] == list(range(7))  # CREATE TABLE, then six inserts
    assert seen["vins"] == [f"V{i}" for i in range(6)]
    assert seen["chain_ok"]
    verified = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-export", str(bucket_dir), "--export-id", seen["export_id"]],
        capture_output=True, text=True, timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    server.restart()  # the job is remembered
    again = aws(client_python, server, "qldb", "describe-journal-s3-export", "--name", "vehicles", "--export-id", seen["export_id"])
    assert again["ExportDescription"]["Status"] == "COMPLETED"
    missing = aws(client_python, server, "qldb", "describe-journal-s3-export", "--name", "vehicles",
                  "--export-id", "0" * 22, check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr
    bad = aws(client_python, server, "qldb", "export-journal-to-s3", "--name", "vehicles",
              "--inclusive-start-time", "2020-01-01T00:00:00Z", "--exclusive-end-time", "2019-01-01T00:00:00Z",
              "--role-arn", "arn:aws:iam::000000000000:role/x",
              "--s3-export-configuration", "Bucket=b-1,Prefix=p/,EncryptionConfiguration={ObjectEncryptionType=SSE_S3}",
              check=False)
    assert bad.returncode != 0 and "InvalidParameterException" in bad.stderr
