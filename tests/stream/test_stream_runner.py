"""StreamRunner: a stream in a background thread with QLDB's states, against kinesalite."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.stream import checkpoint
from ledger.stream.kinesis import make_client
from ledger.stream.records import stream_arn
from ledger.stream.runner import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    FAILED,
    IMPAIRED,
    KINESIS_STREAM_NOT_FOUND,
    StreamJob,
    StreamRunner,
    error_cause,
)

from . import consumer


def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def db(tmp_path: Path) -> Any:
    conn = ledger.connect(tmp_path / "live.ledger")
    conn.execute("CREATE TABLE Item")
    yield conn
    conn.close()


def _runner(db: Any, kinesalite: str, stream: str, tmp_path: Path, **kw: Any) -> StreamRunner:
    job_args = {k: kw.pop(k) for k in ("start", "end", "aggregate") if k in kw}
    job = StreamJob("0359STREAMIDxxxxxxxxxx", "live", stream_arn("live", "0359STREAMIDxxxxxxxxxx",
                    "us-east-1", "000000000000"), stream, **job_args)
    return StreamRunner(db.journal, db.path, job, lambda: make_client(kinesalite),
                        str(tmp_path / "stream.checkpoint"), **kw)


def test_active_then_cancelled(db: Any, kinesalite: str, kinesis: Any, new_stream: Any,
                               aws_env: Any, tmp_path: Path) -> None:
    name = new_stream()
    changes: list[str] = []
    runner = _runner(db, kinesalite, name, tmp_path, on_change=lambda r: changes.append(r.state))
    runner.start()
    assert runner.describe() == {"Status": ACTIVE}
    db.execute("INSERT INTO Item ?", {"n": 1})
    _until(lambda: len(consumer.consume(kinesis, name)) >= 4)  # CREATED, 2 blocks, 1 revision
    runner.cancel()
    assert runner.join(10) and runner.state == CANCELED and changes == [CANCELED]
    parsed = consumer.consume(kinesis, name)
    assert {str(p["record"]["qldbStreamArn"]) for p in parsed} == {runner.job.arn}
    assert parsed[-1]["record"]["recordType"] == "REVISION_DETAILS"  # no COMPLETED


def test_completed_at_its_end(db: Any, kinesalite: str, kinesis: Any, new_stream: Any,
                              aws_env: Any, tmp_path: Path) -> None:
    name = new_stream()
    runner = _runner(db, kinesalite, name, tmp_path, end=3, aggregate=False).start()
    db.execute("INSERT INTO Item ?", {"n": 1})
    db.execute("INSERT INTO Item ?", {"n": 2})
    assert runner.join(15) and runner.state == COMPLETED
    parsed = consumer.consume(kinesis, name)
    assert parsed[-1]["record"]["payload"]["controlRecordType"] == "COMPLETED"
    runner.cancel()  # too late: it stays COMPLETED
    assert runner.describe()["Status"] == COMPLETED


def test_a_missing_kinesis_stream_impairs_then_recovers(
    db: Any, kinesalite: str, kinesis: Any, aws_env: Any, tmp_path: Path
) -> None:
    name = f"late-{time.monotonic_ns()}"
    runner = _runner(db, kinesalite, name, tmp_path).start()
    _until(lambda: runner.state == IMPAIRED)
    assert runner.describe()["ErrorCause"] == KINESIS_STREAM_NOT_FOUND
    kinesis.create_stream(StreamName=name, ShardCount=1)
    _until(lambda: runner.state == ACTIVE, timeout=30)
    _until(lambda: len(consumer.consume(kinesis, name)) >= 2)
    runner.cancel()
    assert runner.join(10) and runner.state == CANCELED
    consumer.check_delivery(consumer.consume(kinesis, name), [])


def test_impaired_too_long_fails(db: Any, kinesalite: str, aws_env: Any, tmp_path: Path) -> None:
    runner = _runner(db, kinesalite, "never-created", tmp_path, fail_after=0.5).start()
    assert runner.join(20)
    described = runner.describe()
    assert described["Status"] == FAILED and described["ErrorCause"] == KINESIS_STREAM_NOT_FOUND
    assert "does not exist" not in described["Message"] and "giving up" in described["Message"]


def test_a_restarted_runner_resumes_from_its_checkpoint(
    db: Any, kinesalite: str, kinesis: Any, new_stream: Any, aws_env: Any, tmp_path: Path
) -> None:
    name = new_stream()
    first = _runner(db, kinesalite, name, tmp_path).start()
    _until(lambda: len(consumer.consume(kinesis, name)) >= 2)
    first.cancel()
    first.join(10)
    saved = checkpoint.load(str(tmp_path / "stream.checkpoint"))
    assert saved is not None and saved.created and saved.next_seq == 1
    db.execute("INSERT INTO Item ?", {"n": 7})
    second = _runner(db, kinesalite, name, tmp_path).start()
    _until(lambda: len(consumer.consume(kinesis, name)) >= 4)
    second.cancel()
    second.join(10)
    parsed = consumer.consume(kinesis, name)
    assert sum(p["record"]["recordType"] == "CONTROL" for p in parsed) == 1  # one CREATED
    assert len(parsed) == 4


def test_error_causes() -> None:
    assert error_cause("ResourceNotFoundException") == KINESIS_STREAM_NOT_FOUND
    assert error_cause("AccessDeniedException") == "IAM_PERMISSION_REVOKED"
    assert error_cause("ProvisionedThroughputExceededException") is None
    assert error_cause(None) is None
