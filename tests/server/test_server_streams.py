"""QLDB's journal stream operations in ``ledger serve``, called through boto3 1.40.60's
QLDB client (the last with QLDB's models), delivering to kinesalite on 127.0.0.1: the
records arrive and verify; streams survive a server restart; QLDB's states (ACTIVE,
IMPAIRED with its ErrorCause, COMPLETED, CANCELED) and errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ledger

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.stream import conftest as kinesis_fixtures  # noqa: E402
from tests.stream import consumer  # noqa: E402

# the Kinesis fixtures of tests/stream (kinesalite started on 127.0.0.1 by the test set-up)
kinesalite = kinesis_fixtures.kinesalite
aws_env = kinesis_fixtures.aws_env
kinesis = kinesis_fixtures.kinesis
new_stream = kinesis_fixtures.new_stream

CLIENT = """
import datetime, json, sys
import boto3
from botocore.exceptions import ClientError
client = boto3.client("qldb")
operation, args = sys.argv[1], json.loads(sys.argv[2])
for key in ("InclusiveStartTime", "ExclusiveEndTime"):
    if key in args:
        args[key] = datetime.datetime.fromtimestamp(args[key], datetime.timezone.utc)
try:
    out = getattr(client, operation)(**args)
except ClientError as exc:
    print(json.dumps({"Error": exc.response["Error"]["Code"], "Message": exc.response["Error"].get("Message")}))
    sys.exit(0)
out.pop("ResponseMetadata", None)
print(json.dumps(out, default=str))
"""


def _qldb(python: Path, server: Any, operation: str, **args: Any) -> Any:
    proc = subprocess.run(
        [str(python), "-c", CLIENT, operation, json.dumps(args)],
        capture_output=True, text=True, env=server.client_env(), timeout=60,
    )
    assert proc.returncode == 0, f"{proc.stderr}\nserver log:\n{server.log()[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _kinesis_arn(name: str) -> str:
    return f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}"


@pytest.fixture
def streaming_server(start_server: Any, client_python: Path, kinesalite: str,
                     aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A server whose Kinesis client goes to kinesalite (boto3's own endpoint variable)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", kinesalite)
    server = start_server()
    created = _qldb(client_python, server, "create_ledger", Name="streamed", PermissionsMode="ALLOW_ALL")
    assert created["Name"] == "streamed"
    return server


def test_a_stream_runs_survives_a_restart_and_is_canceled(
    streaming_server: Any, client_python: Path, kinesis: Any, new_stream: Any, tmp_path: Path
) -> None:
    server = streaming_server
    target = new_stream()
    with ledger.connect(tmp_path / "root" / "streamed") as db:
        db.execute("CREATE TABLE Car")
        db.execute("INSERT INTO Car ?", {"VIN": "V1"})
    started = _qldb(
        client_python, server, "stream_journal_to_kinesis", LedgerName="streamed",
        RoleArn="arn:aws:iam::000000000000:role/qldb-stream", StreamName="cars",
        InclusiveStartTime=dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp(),
        KinesisConfiguration={"StreamArn": _kinesis_arn(target), "AggregationEnabled": True},
        Tags={"team": "audit"},
    )
    stream_id = started["StreamId"]
    described = _qldb(client_python, server, "describe_journal_kinesis_stream",
                      LedgerName="streamed", StreamId=stream_id)["Stream"]
    assert described["Status"] == "ACTIVE" and described["StreamName"] == "cars"
    assert described["Arn"] == f"arn:aws:qldb:us-east-1:000000000000:stream/streamed/{stream_id}"
    assert described["KinesisConfiguration"] == {"StreamArn": _kinesis_arn(target), "AggregationEnabled": True}
    _until(lambda: len(consumer.consume(kinesis, target)) >= 4)  # CREATED, 2 blocks, a revision

    server.restart()  # the stream is resumed from its checkpoint
    with ledger.connect(tmp_path / "root" / "streamed") as db:
        db.execute("INSERT INTO Car ?", {"VIN": "V2"})
    _until(lambda: len(consumer.consume(kinesis, target)) >= 6)
    listed = _qldb(client_python, server, "list_journal_kinesis_streams_for_ledger", LedgerName="streamed")
    assert [s["StreamId"] for s in listed["Streams"]] == [stream_id]
    assert listed["Streams"][0]["Status"] == "ACTIVE"

    canceled = _qldb(client_python, server, "cancel_journal_kinesis_stream",
                     LedgerName="streamed", StreamId=stream_id)
    assert canceled == {"StreamId": stream_id}
    described = _qldb(client_python, server, "describe_journal_kinesis_stream",
                      LedgerName="streamed", StreamId=stream_id)["Stream"]
    assert described["Status"] == "CANCELED"
    again = _qldb(client_python, server, "cancel_journal_kinesis_stream",
                  LedgerName="streamed", StreamId=stream_id)
    assert again["Error"] == "ResourcePreconditionNotMetException"

    parsed = consumer.consume(kinesis, target)
    with ledger.connect(tmp_path / "root" / "streamed", readonly=True) as db:
        from ledger.stream import deliver

        expected = [r for r in deliver.records(db.journal, deliver.StreamSpec()) if r is not None]
    checked = consumer.check_delivery(parsed, expected[:1] + [r for r in expected if r.seq >= 0])
    assert checked.blocks == [0, 1, 2]
    assert {str(p["record"]["qldbStreamArn"]) for p in parsed} == {described["Arn"]}
    assert sum(p["record"]["recordType"] == "CONTROL" for p in parsed) == 1  # one CREATED


def test_a_stream_with_an_end_completes(streaming_server: Any, client_python: Path, kinesis: Any,
                                        new_stream: Any, tmp_path: Path) -> None:
    target = new_stream()
    with ledger.connect(tmp_path / "root" / "streamed") as db:
        db.execute("CREATE TABLE T")
    now = time.time()
    started = _qldb(
        client_python, streaming_server, "stream_journal_to_kinesis", LedgerName="streamed",
        RoleArn="arn:aws:iam::000000000000:role/r", StreamName="done",
        InclusiveStartTime=now - 3600, ExclusiveEndTime=now,
        KinesisConfiguration={"StreamArn": _kinesis_arn(target), "AggregationEnabled": False},
    )

    def status() -> Any:
        s = _qldb(client_python, streaming_server, "describe_journal_kinesis_stream",
                  LedgerName="streamed", StreamId=started["StreamId"])["Stream"]
        return s if s["Status"] != "ACTIVE" else None

    assert _until(status)["Status"] == "COMPLETED"
    parsed = consumer.consume(kinesis, target)
    assert [p["record"]["payload"].get("controlRecordType") for p in parsed][-1] == "COMPLETED"


def test_a_missing_kinesis_stream_is_impaired(streaming_server: Any, client_python: Path) -> None:
    started = _qldb(
        client_python, streaming_server, "stream_journal_to_kinesis", LedgerName="streamed",
        RoleArn="arn:aws:iam::000000000000:role/r", StreamName="nowhere",
        InclusiveStartTime=time.time() - 60,
        KinesisConfiguration={"StreamArn": _kinesis_arn("no-such-kinesis-stream")},
    )

    def impaired() -> Any:
        s = _qldb(client_python, streaming_server, "describe_journal_kinesis_stream",
                  LedgerName="streamed", StreamId=started["StreamId"])["Stream"]
        return s if s["Status"] == "IMPAIRED" else None

    described = _until(impaired)
    assert described["ErrorCause"] == "KINESIS_STREAM_NOT_FOUND"
    assert described["KinesisConfiguration"]["AggregationEnabled"] is True  # QLDB's default


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"StreamName": "bad name!"}, "InvalidParameterException"),
        ({"KinesisConfiguration": {"StreamArn": "arn:aws:s3:::some-bucket-name"}}, "InvalidParameterException"),
        ({"InclusiveStartTime": time.time() + 86400}, "InvalidParameterException"),
        ({"ExclusiveEndTime": 1.0}, "InvalidParameterException"),
        ({"LedgerName": "absent"}, "ResourceNotFoundException"),
    ],
)
def test_bad_requests(streaming_server: Any, client_python: Path, args: dict[str, Any], error: str) -> None:
    request = {
        "LedgerName": "streamed", "RoleArn": "arn:aws:iam::000000000000:role/r", "StreamName": "ok",
        "InclusiveStartTime": time.time() - 60,
        "KinesisConfiguration": {"StreamArn": _kinesis_arn("k")}, **args,
    }
    assert _qldb(client_python, streaming_server, "stream_journal_to_kinesis", **request)["Error"] == error


def test_an_unknown_stream(streaming_server: Any, client_python: Path) -> None:
    got = _qldb(client_python, streaming_server, "describe_journal_kinesis_stream",
                LedgerName="streamed", StreamId="0" * 22)
    assert got["Error"] == "ResourceNotFoundException"
    assert _qldb(client_python, streaming_server, "list_journal_kinesis_streams_for_ledger",
                 LedgerName="streamed") == {"Streams": []}
