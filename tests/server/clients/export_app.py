"""ExportJournalToS3 through boto3, then the export read back the way AWS's sample export
reader does (manifests, then each data object's blocks) and its hash chain checked with
pyqldb's QldbHash: each blockHash = entriesHash . previousBlockHash, each block pointing
at the one before.  ARGS: LEDGER BUCKET_DIR (the server's ROOT/.exports/<bucket>)."""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

import boto3
from amazon.ion.simpleion import loads
from pyqldb.driver.qldb_driver import QldbDriver
from pyqldb.util.qldb_hash import QldbHash

BUCKET = "journal-exports"
PREFIX = "vehicles/run1/"


def main(name: str, bucket_dir: str) -> None:
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    driver = QldbDriver(name)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Vehicle"))
    for i in range(6):
        driver.execute_lambda(lambda tx, i=i: tx.execute_statement("INSERT INTO Vehicle ?", {"VIN": f"V{i}"}))
    driver.close()
    time.sleep(1.1)  # botocore sends whole seconds: let the end pass the last block
    qldb = boto3.client("qldb")
    export_id = qldb.export_journal_to_s3(
        Name=name,
        InclusiveStartTime=start,
        ExclusiveEndTime=datetime.datetime.now(datetime.UTC),
        S3ExportConfiguration={"Bucket": BUCKET, "Prefix": PREFIX,
                               "EncryptionConfiguration": {"ObjectEncryptionType": "SSE_S3"}},
        RoleArn="arn:aws:iam::000000000000:role/qldb-export",
    )["ExportId"]
    described = qldb.describe_journal_s3_export(Name=name, ExportId=export_id)["ExportDescription"]
    for_ledger = qldb.list_journal_s3_exports_for_ledger(Name=name)["JournalS3Exports"]
    everywhere = qldb.list_journal_s3_exports()["JournalS3Exports"]

    root = Path(bucket_dir)
    started = loads((root / f"{PREFIX}{export_id}.started.manifest").read_text())
    (completed,) = root.glob(f"{PREFIX}{export_id}.*.completed.manifest")
    keys = list(loads(completed.read_text())["keys"])
    blocks = []
    for key in keys:
        blocks.extend(loads((root / key).read_text(), single_value=False))
    chain_ok = True
    for before, block in zip(blocks, blocks[1:], strict=False):
        chain_ok &= bytes(block["previousBlockHash"]) == bytes(before["blockHash"])
        folded = QldbHash(bytes(block["entriesHash"])).dot(QldbHash(bytes(block["previousBlockHash"])))
        chain_ok &= folded.get_qldb_hash() == bytes(block["blockHash"])
    print(json.dumps({
        "export_id": export_id,
        "status": described["Status"],
        "format": described.get("OutputFormat"),
        "bucket": described["S3ExportConfiguration"]["Bucket"],
        "for_ledger": [e["ExportId"] for e in for_ledger],
        "everywhere": [e["ExportId"] for e in everywhere],
        "started_ledger": str(started["ledgerName"]),
        "started_bucket": str(started["bucket"]),
        "keys_prefixed": all(str(k).startswith(PREFIX) for k in keys),
        "sequence": [int(b["blockAddress"]["sequenceNo"]) for b in blocks],
        "vins": sorted(str(r["data"]["VIN"]) for b in blocks for r in b.get("revisions", [])
                       if "data" in r and "VIN" in r["data"]),
        "chain_ok": bool(chain_ok),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
