"""Delivery to a real Kinesis-compatible server (kinesalite on 127.0.0.1), read back with
boto3 by a consumer written like AWS's samples, deaggregated, checked and verified."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import ledger
from ledger.errors import StreamError
from ledger.stream import checkpoint, deliver
from ledger.stream.kinesis import RetryPolicy

from . import consumer


def _build(db: ledger.Ledger, blocks: int, seed: int = 1) -> None:
    """A ledger with inserts, and updates of earlier documents (repeated keys)."""
    rnd = random.Random(seed)
    if not list(db.execute("SELECT * FROM information_schema.user_tables WHERE name = 'Car'")):
        db.execute("CREATE TABLE Car")
    ids: list[str] = []
    for i in range(blocks):
        with db.transaction() as tx:
            for _ in range(rnd.randint(1, 4)):
                (row,) = tx.execute("INSERT INTO Car ?", {"n": i, "pad": "x" * rnd.randint(0, 300)})
                ids.append(str(row["documentId"]))
            if ids and rnd.random() < 0.4:
                victim = rnd.choice(ids[:-4] or ids)
                tx.execute("UPDATE Car AS c BY id SET c.touched = ? WHERE id = ?", i, victim)


def _expected(db: ledger.Ledger, end: int | None = None) -> list[Any]:
    spec = deliver.StreamSpec(start=0, end=end)
    return [r for r in deliver.records(db.journal, spec) if r is not None]


@pytest.fixture
def cars(tmp_path: Path) -> Any:
    db = ledger.connect(tmp_path / "cars.ledger")
    _build(db, 40)
    yield db
    db.close()


@pytest.mark.parametrize("aggregate", [False, True], ids=["plain", "aggregated"])
@pytest.mark.parametrize("shards", [1, 3])
def test_delivery_arrives_in_order_and_verifies(
    cars: Any, kinesis: Any, new_stream: Any, tmp_path: Path, aggregate: bool, shards: int
) -> None:
    name = new_stream(shards)
    end = cars.digest().tip.sequence_no + 1
    ckpt = str(tmp_path / "c.json")
    done, stats = deliver.to_kinesis(
        cars.journal, deliver.StreamSpec(end=end), kinesis, name,
        aggregate=aggregate, checkpoint_path=ckpt,
    )
    assert done.completed and done.created and done.next_seq == end
    assert checkpoint.load(ckpt) == done
    expected = _expected(cars, end)
    parsed = consumer.consume(kinesis, name)
    assert len(parsed) == len(expected) == stats.records  # nothing retried: exactly once
    checked = consumer.check_delivery(parsed, expected)
    assert checked.blocks == list(range(end))
    assert checked.keys[cars.strand_id] == [-1, *range(end), 1 << 62]  # CREATED, blocks, COMPLETED
    if aggregate:
        assert stats.kinesis_records < stats.records / 10
        assert any(p["subSequenceNumber"] not in (None, 0) for p in parsed)
    else:
        assert stats.kinesis_records == stats.records


def test_a_completed_checkpoint_sends_nothing_more(cars: Any, kinesis: Any, new_stream: Any,
                                                   tmp_path: Path) -> None:
    name = new_stream()
    ckpt = str(tmp_path / "c.json")
    end = cars.digest().tip.sequence_no + 1
    deliver.to_kinesis(cars.journal, deliver.StreamSpec(end=end), kinesis, name, checkpoint_path=ckpt)
    count = len(consumer.read_stream(kinesis, name))
    done, stats = deliver.to_kinesis(cars.journal, deliver.StreamSpec(), kinesis, name, checkpoint_path=ckpt)
    assert done.completed and stats.records == 0
    assert len(consumer.read_stream(kinesis, name)) == count


def test_an_open_stream_resumes_where_it_stopped(cars: Any, kinesis: Any, new_stream: Any,
                                                 tmp_path: Path) -> None:
    """No end: each run sends up to the journal's last block (no COMPLETED); the next run
    continues from the checkpoint with the same qldbStreamArn and no CREATED."""
    name = new_stream()
    ckpt = str(tmp_path / "c.json")
    first, _ = deliver.to_kinesis(cars.journal, deliver.StreamSpec(), kinesis, name, checkpoint_path=ckpt)
    assert not first.completed and first.next_seq == cars.digest().tip.sequence_no + 1
    _build(cars, 5, seed=2)
    second, stats = deliver.to_kinesis(cars.journal, deliver.StreamSpec(), kinesis, name,
                                       checkpoint_path=ckpt)
    assert second.arn == first.arn and second.next_seq == cars.digest().tip.sequence_no + 1
    parsed = consumer.consume(kinesis, name)
    assert len(parsed) == len(_expected(cars))  # every record once: nothing repeated
    consumer.check_delivery(parsed, _expected(cars))
    assert {str(p["record"]["qldbStreamArn"]) for p in parsed} == {first.arn}
    assert sum(p["record"]["recordType"] == "CONTROL" for p in parsed) == 1


class Flaky:
    """The real client, with Kinesis's failures injected: whole calls throttled, and
    partial PutRecords failures (a random subset really sent, the rest reported failed
    with ProvisionedThroughputExceededException, as Kinesis reports them)."""

    def __init__(self, client: Any, seed: int) -> None:
        self.client = client
        self.rnd = random.Random(seed)
        self.throttled = self.partial = 0

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        roll = self.rnd.random()
        if roll < 0.2 or not self.throttled:
            self.throttled += 1
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}},
                "PutRecords",
            )
        if roll < 0.6 and len(Records) > 1:
            self.partial += 1
            keep = [self.rnd.random() < 0.5 for _ in Records]
            sent = [r for r, k in zip(Records, keep, strict=True) if k]
            real = self.client.put_records(StreamName=StreamName, Records=sent)["Records"] if sent else []
            results, it = [], iter(real)
            for k in keep:
                results.append(next(it) if k else {
                    "ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": "Rate exceeded for shard shardId-000000000000",
                })
            return {"FailedRecordCount": keep.count(False), "Records": results}
        return dict(self.client.put_records(StreamName=StreamName, Records=Records))


@pytest.mark.parametrize("aggregate", [False, True], ids=["plain", "aggregated"])
def test_throttling_and_partial_failures_are_retried_in_order(
    cars: Any, kinesis: Any, new_stream: Any, aggregate: bool
) -> None:
    name = new_stream(2)
    flaky = Flaky(kinesis, seed=7)
    end = cars.digest().tip.sequence_no + 1
    sleeps: list[float] = []
    policy = RetryPolicy(base=0.001, cap=0.01, max_attempts=50, sleep=sleeps.append)
    done, stats = deliver.to_kinesis(cars.journal, deliver.StreamSpec(end=end), flaky, name,
                                     aggregate=aggregate, retry=policy)
    assert done.completed
    assert flaky.throttled and (flaky.partial or aggregate) and sleeps
    checked = consumer.check_delivery(consumer.consume(kinesis, name), _expected(cars, end))
    assert checked.blocks == list(range(end))


def test_giving_up_after_the_attempts_keeps_the_checkpoint_honest(
    cars: Any, kinesis: Any, new_stream: Any, tmp_path: Path
) -> None:
    name = new_stream()
    ckpt = str(tmp_path / "c.json")

    class Down:
        calls = 0

        def put_records(self, **kw: Any) -> Any:
            Down.calls += 1
            if Down.calls > 3:
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "PutRecords")
            return kinesis.put_records(**kw)

    states: list[tuple[str, str | None]] = []
    policy = RetryPolicy(base=0.001, cap=0.001, max_attempts=4, sleep=lambda s: None)
    with pytest.raises(StreamError, match="giving up after 4 attempts"):
        deliver.to_kinesis(cars.journal, deliver.StreamSpec(), Down(), name, checkpoint_path=ckpt,
                           retry=policy, on_status=lambda s, c: states.append((s, c)))
    assert states and states[0] == ("IMPAIRED", "ServiceUnavailable")
    saved = checkpoint.load(ckpt)
    assert saved is not None and saved.created
    delivered = consumer.consume(kinesis, name)
    blocks = {int(p["record"]["payload"]["blockAddress"]["sequenceNo"]) for p in delivered
              if p["record"]["recordType"] == "BLOCK_SUMMARY"}
    assert set(range(saved.next_seq)) <= blocks  # never ahead of what Kinesis took
    done, _ = deliver.to_kinesis(cars.journal, deliver.StreamSpec(), kinesis, name, checkpoint_path=ckpt)
    consumer.check_delivery(consumer.consume(kinesis, name), _expected(cars))
    assert done.next_seq == cars.digest().tip.sequence_no + 1


def test_a_missing_stream_is_a_clear_error(cars: Any, kinesis: Any) -> None:
    with pytest.raises(StreamError, match="'no-such-stream' does not exist"):
        deliver.to_kinesis(cars.journal, deliver.StreamSpec(), kinesis, "no-such-stream")


def test_follow_delivers_new_commits(cars: Any, kinesis: Any, new_stream: Any) -> None:
    name = new_stream()
    cancel = threading.Event()
    tip = cars.digest().tip.sequence_no
    runner = threading.Thread(target=lambda: deliver.to_kinesis(
        cars.journal, deliver.StreamSpec(start=tip + 1, follow=True), kinesis, name,
        aggregate=True, path=cars.path, cancel=cancel))
    runner.start()
    try:
        time.sleep(0.3)
        (row,) = cars.execute("INSERT INTO Car ?", {"n": "late"})
        deadline = time.monotonic() + 10
        parsed: list[Any] = []
        while time.monotonic() < deadline and len(parsed) < 3:
            time.sleep(0.05)
            parsed = consumer.consume(kinesis, name)
    finally:
        cancel.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    assert [p["record"]["recordType"] for p in parsed] == ["CONTROL", "BLOCK_SUMMARY", "REVISION_DETAILS"]
    assert str(parsed[2]["revision_metadata"]["id"]) == str(row["documentId"])
