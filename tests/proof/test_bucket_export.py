"""Exports in QLDB's S3 layout, read back the way QLDB's own tools read them.

The tool below follows AWS's samples step by step, against a local mirror of the bucket
(a directory; an object key is a path under it): amazon-qldb-dmv-sample-python's
``journal_s3_export_reader.read_export`` (list the objects under the prefix, find
``<prefix><exportId>.started.manifest``, read the completed manifest's ``keys`` with
amazon.ion, fetch each key as is, split an ION_TEXT object into blocks on ``"} {"``,
check each key's ``<strandId>.<first>-<last>`` against its blocks) and
``validate_qldb_hash_chain.verify`` (blockHash = dot(entriesHash, previous blockHash)
along the chain); the completed manifest's name is the one amazon-qldb-dmv-sample-java's
``ValidateQldbHashChain`` builds: ``prefix + exportId + "." + strandId +
".completed.manifest"``.  The hash join is written here from QLDB's definition, not
taken from the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion

import ledger
from ledger.errors import DataError
from ledger.proof.bucket import export_to_bucket
from ledger.proof.export import import_export, verify_export

PREFIX = "vehicle-registration-1700000000/"


# -- the QLDB tool ----------------------------------------------------------------------------------
def _list_objects(bucket: Path, prefix: str) -> list[str]:
    """S3 ListObjectsV2(Prefix=prefix) on the mirror: every key starting with prefix."""
    keys = [p.relative_to(bucket).as_posix() for p in bucket.rglob("*") if p.is_file()]
    return sorted(k for k in keys if k.startswith(prefix))


def _get_object(bucket: Path, key: str) -> bytes:
    return (bucket / key).read_bytes()


def _signed(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def _join_hash_pairwise(h1: bytes, h2: bytes) -> bytes:
    """QLDB's dot: sort the two hashes comparing signed bytes from the last, hash both."""
    if not h1:
        return h2
    if not h2:
        return h1
    for a, b in zip(reversed(h1), reversed(h2), strict=True):
        if _signed(a) != _signed(b):
            first, second = (h1, h2) if _signed(a) < _signed(b) else (h2, h1)
            return hashlib.sha256(first + second).digest()
    return hashlib.sha256(h1 + h2).digest()


def _journal_blocks(text: str) -> list[Any]:
    pieces = text.split("} {")
    blocks = []
    for i, piece in enumerate(pieces):
        if len(pieces) > 1:
            piece = (
                piece + "}"
                if i == 0
                else "{" + piece
                if i == len(pieces) - 1
                else "{" + piece + "}"
            )
        blocks.append(simpleion.loads(piece))
    return blocks


def qldb_tool_read(bucket: Path, prefix: str, export_id: str, strand_id: str, binary: bool) -> list:
    objects = _list_objects(bucket, prefix)
    started = f"{prefix}{export_id}.started.manifest"
    assert started.casefold() in [k.casefold() for k in objects], "initial manifest not found"
    completed = f"{prefix}{export_id}.{strand_id}.completed.manifest"
    assert completed in objects, "completed manifest not found"
    keys = list(simpleion.loads(_get_object(bucket, completed)).get("keys"))
    blocks: list[Any] = []
    for key in keys:
        raw = _get_object(bucket, key)
        found = (
            list(simpleion.loads(raw, single_value=False))
            if binary
            else _journal_blocks(raw.decode())
        )
        first, last = key.split(".")[1].split("-")
        assert str(found[0]["blockAddress"]["sequenceNo"]) == first
        assert str(found[-1]["blockAddress"]["sequenceNo"]) == last
        blocks += found
    return blocks


def qldb_tool_verify(blocks: list[Any]) -> None:
    previous = None
    for block in blocks:
        if previous is not None:
            assert previous["blockHash"] == block["previousBlockHash"], "previous block hash"
            joined = _join_hash_pairwise(bytes(block["entriesHash"]), bytes(previous["blockHash"]))
            assert joined == bytes(block["blockHash"]), "block hash"
        previous = block


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vehicles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bucket") / "vehicles.ledger"
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("CREATE INDEX ON Vehicle (VIN)")
        for i in range(12):
            db.execute("INSERT INTO Vehicle ?", {"VIN": f"VIN{i:03}", "Owner": "Ann", "Année": i})
        db.execute("UPDATE Vehicle AS v SET v.Owner = 'Bob' WHERE v.VIN = 'VIN003'")
    return path


def _blocks_of(path: Path) -> list[dict[str, Any]]:
    with ledger.connect(path, readonly=True) as db:
        tip = db.digest().tip
        return [db.get_block(i, tip)[0] for i in range(tip.sequence_no + 1)]


# -- tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["ION_TEXT", "ION_BINARY"])
def test_a_qldb_tool_reads_and_verifies_the_export(vehicles, tmp_path, fmt):
    bucket = tmp_path / "bucket"
    with ledger.connect(vehicles, readonly=True) as db:
        result = export_to_bucket(db, bucket, PREFIX, output_format=fmt, blocks_per_file=5)
        tip = db.digest().tip
    assert len(result.export_id) == 22 and result.output_format == fmt
    assert (bucket / result.started_key).is_file() and (bucket / result.completed_key).is_file()
    assert all(key.startswith(PREFIX) for key in result.keys) and len(result.keys) >= 3
    blocks = qldb_tool_read(bucket, PREFIX, result.export_id, result.strand_id, fmt == "ION_BINARY")
    assert [b["blockAddress"]["sequenceNo"] for b in blocks] == list(range(tip.sequence_no + 1))
    qldb_tool_verify(blocks)
    expected = _blocks_of(vehicles)
    assert [bytes(b["blockHash"]) for b in blocks] == [bytes(b["blockHash"]) for b in expected]
    started = simpleion.loads(_get_object(bucket, result.started_key))
    assert started["prefix"] == PREFIX and started["outputFormat"] == fmt
    assert started["bucket"] == "bucket" and started["exportId"] == result.export_id
    assert started["objectEncryptionType"] == "NO_ENCRYPTION"


def test_a_tampered_export_fails_the_qldb_tool(vehicles, tmp_path):
    bucket = tmp_path / "bucket"
    with ledger.connect(vehicles, readonly=True) as db:
        result = export_to_bucket(db, bucket, PREFIX)
    data = bucket / result.keys[0]
    data.write_text(data.read_text().replace("VIN001", "VIN999"))
    blocks = qldb_tool_read(bucket, PREFIX, result.export_id, result.strand_id, False)
    qldb_tool_verify(blocks)  # the chain alone does not cover document data
    report = verify_export(bucket)
    assert not report.verified and "hash" in str(report.failure)


def test_several_exports_share_a_prefix(vehicles, tmp_path):
    bucket = tmp_path / "bucket"
    copy = tmp_path / "grow.ledger"
    import_export(_one_export(vehicles, tmp_path / "seed"), copy)
    with ledger.connect(copy) as db:
        first = export_to_bucket(db, bucket, PREFIX)
        db.execute("INSERT INTO Vehicle ?", {"VIN": "LATE"})
        second = export_to_bucket(db, bucket, PREFIX, output_format="JSON")
        other = export_to_bucket(db, bucket, "elsewhere/", output_format="ION_BINARY")
    assert len({first.export_id, second.export_id, other.export_id}) == 3
    assert second.last == first.last + 1
    assert verify_export(bucket, export_id=first.export_id).last == first.last
    assert verify_export(bucket, export_id=second.export_id).format == "JSON"
    newest = verify_export(bucket)
    assert newest.verified and newest.export_id == other.export_id
    for export_id in (first.export_id, other.export_id):
        blocks = qldb_tool_read(
            bucket,
            PREFIX if export_id == first.export_id else "elsewhere/",
            export_id,
            first.strand_id,
            export_id == other.export_id,
        )
        qldb_tool_verify(blocks)
    restored = import_export(bucket, tmp_path / "restored.ledger", export_id=first.export_id)
    with ledger.connect(restored, readonly=True) as db:
        assert db.digest().tip.sequence_no == first.last
    with pytest.raises(DataError, match="no completed export"):
        verify_export_or_raise(bucket, "0" * 22)


def verify_export_or_raise(bucket: Path, export_id: str) -> None:
    from ledger.proof.export import read_export

    read_export(bucket, export_id)


def _one_export(path: Path, out: Path) -> Path:
    with ledger.connect(path, readonly=True) as db:
        db.export(out)
    return out


def test_time_range_follows_export_journal_to_s3(vehicles, tmp_path):
    blocks = _blocks_of(vehicles)
    middle = blocks[len(blocks) // 2]["blockTimestamp"]
    moment = dt.datetime(*middle.timetuple()[:6], middle.microsecond, tzinfo=dt.UTC)
    with ledger.connect(vehicles, readonly=True) as db:
        later = export_to_bucket(db, tmp_path / "b", PREFIX, start=moment)
        assert later.first is not None and later.first > 0
        assert later.inclusive_start_time == moment
        with pytest.raises(DataError, match="in the future"):
            export_to_bucket(
                db, tmp_path / "b", PREFIX, end=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            )
        with pytest.raises(DataError, match="must be before"):
            export_to_bucket(db, tmp_path / "b", PREFIX, start=moment, end=moment)
        for bad in ("../up/", "/abs/", "x" * 129):
            with pytest.raises(DataError, match="prefix"):
                export_to_bucket(db, tmp_path / "b", bad)
        with pytest.raises(DataError, match="output format"):
            export_to_bucket(db, tmp_path / "b", PREFIX, output_format="CSV")
        with pytest.raises(DataError, match="22 base62"):
            export_to_bucket(db, tmp_path / "b", PREFIX, export_id="short")
        with pytest.raises(DataError, match="already exists"):
            export_to_bucket(db, tmp_path / "b", PREFIX, export_id=later.export_id)
    report = verify_export(tmp_path / "b")
    assert report.verified and report.first == later.first


def test_cli_bucket_export_verify_and_import(vehicles, tmp_path):
    from click.testing import CliRunner

    from ledger.cli.main import cli

    def run(*args: Any, code: int = 0) -> Any:
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    bucket = tmp_path / "bucket"
    one = json.loads(run("export", vehicles, "--bucket-dir", bucket, "--prefix", PREFIX).stdout)
    two = json.loads(
        run(
            "export",
            vehicles,
            "--bucket-dir",
            bucket,
            "--prefix",
            PREFIX,
            "--output-format",
            "ION_BINARY",
        ).stdout
    )
    assert (
        one["CompletedManifest"]
        == f"{PREFIX}{one['ExportId']}.{one['StrandId']}.completed.manifest"
    )
    assert two["OutputFormat"] == "ION_BINARY" and one["Keys"][0].startswith(PREFIX)
    assert one["ExportId"] in run("verify-export", bucket, "--export-id", one["ExportId"]).stdout
    assert two["ExportId"] in run("verify-export", bucket).stdout  # the newest
    run("import", bucket, tmp_path / "r.ledger", "--export-id", one["ExportId"])
    run("export", vehicles, code=2)  # neither DIRECTORY nor --bucket-dir
    run("export", vehicles, tmp_path / "d", "--prefix", "p/", code=2)
    plain = json.loads(run("export", vehicles, tmp_path / "plain").stdout)  # still works
    assert (tmp_path / "plain" / plain["Keys"][0]).is_file()
