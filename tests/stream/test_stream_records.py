"""Stream records: QLDB's shapes (golden files), a sample consumer reads them, hashes verify."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.core import IonType
from aws_kinesis_agg.aggregator import AggRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger import ion
from ledger.errors import DataError, ProgrammingError
from ledger.hashing import dot, ion_hash
from ledger.stream import checkpoint, deliver, encode, parse_position
from ledger.stream.wait import SETTLE, CommitWaiter

from . import consumer

GOLDEN = Path(__file__).with_name("golden")


def golden(name: str) -> Any:
    return ion.loads((GOLDEN / name).read_text())


def _vehicles(db: ledger.Ledger) -> dict[str, str]:
    db.execute("CREATE TABLE Person")
    db.execute("CREATE TABLE Vehicle")
    db.execute("CREATE INDEX ON Person (GovId)")
    ids = {}
    for i in range(3):
        (row,) = db.execute("INSERT INTO Person ?", {"GovId": f"P{i}", "FirstName": f"N{i}"})
        ids[f"P{i}"] = str(row["documentId"])
    with db.transaction() as tx:
        tx.execute("INSERT INTO Vehicle ?", {"VIN": "V1", "Owner": ids["P0"], "Price": ion.loads("12.50")})
        tx.execute("UPDATE Person SET FirstName = 'Ann' WHERE GovId = 'P1'")
    db.execute("DELETE FROM Person WHERE GovId = 'P2'")
    return ids


@pytest.fixture
def vehicles(tmp_path: Path) -> Any:
    db = ledger.connect(tmp_path / "vehicles.ledger")
    _vehicles(db)
    yield db
    db.close()


def _paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: Ion type} of every field; list items share the path ``[]``."""
    kind = ion.ion_type_of(value)
    out: dict[str, Any] = {prefix: kind}
    if kind is IonType.STRUCT:
        for k, v in value.items():
            out.update(_paths(v, f"{prefix}.{k}"))
    elif kind is IonType.LIST:
        for v in value:
            out.update(_paths(v, f"{prefix}[]"))
    return out


def _ours(db: ledger.Ledger, kind: str, table: str | None = None) -> Any:
    for value in db.stream():
        if value["recordType"] != kind:
            continue
        if table and value["payload"]["tableInfo"]["tableName"] != table:
            continue
        if kind == "BLOCK_SUMMARY" and "previousBlockHash" not in value["payload"]:
            continue
        return value
    raise AssertionError(f"no {kind} record")


# -- shapes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["CREATED", "COMPLETED"])
def test_control_records_are_the_guides(vehicles: Any, kind: str) -> None:
    expected = golden(f"guide-control-{kind.lower()}.ion")
    values = list(vehicles.stream(0, 1))
    ours = values[0] if kind == "CREATED" else values[-1]
    assert _paths(ours) == _paths(expected)
    assert ours["recordType"] == "CONTROL" and ours["payload"] == expected["payload"]


def test_block_summary_has_qldbs_shape(vehicles: Any) -> None:
    expected = _paths(golden("qldb-sample-block-summary.ion"))
    ours = _paths(_ours(vehicles, "BLOCK_SUMMARY"))
    # documents are keyed by document id: compare the shape under any id
    norm = {_doc_path(p): t for p, t in ours.items()}
    assert norm == {_doc_path(p): t for p, t in expected.items()}


def _doc_path(path: str) -> str:
    parts = path.split(".")
    if len(parts) > 4 and parts[2] == "transactionInfo" and parts[3] == "documents":
        parts[4] = "<documentId>"
    return ".".join(parts)


def test_revision_details_has_qldbs_shape(vehicles: Any) -> None:
    expected = _paths(golden("qldb-sample-revision-details.ion"))
    ours = _paths(_ours(vehicles, "REVISION_DETAILS", "Person"))
    data = {p for p in expected if p.startswith(".payload.revision.data.")}
    assert {p: t for p, t in ours.items() if not p.startswith(".payload.revision.data.")} == {
        p: t for p, t in expected.items() if p not in data
    }


def test_records_are_ion_binary_round_trip(vehicles: Any) -> None:
    for value in vehicles.stream():
        raw = encode.to_bytes(value)
        assert raw[:4] == b"\xe0\x01\x00\xea"  # an Ion 1.0 binary stream
        assert ion_hash(simpleion.loads(raw)) == ion_hash(value)


# -- hashes, checked the way QLDB documents ------------------------------------------------
def test_a_real_qldb_block_summary_verifies() -> None:
    """Known answer: the AWS sample's BLOCK_SUMMARY is real QLDB output (golden/README.md)."""
    payload = golden("qldb-sample-block-summary.ion")["payload"]
    assert consumer.verify_summary(payload, None) == bytes(payload["blockHash"])


def test_a_real_qldb_revision_hash_recomputes() -> None:
    details = golden("qldb-sample-revision-details.ion")["payload"]["revision"]
    assert consumer.revision_hash(details) != bytes(details["hash"])  # the sample edited a field
    details["data"]["FirstName"] = "Testing new 600"  # what the block's INSERT wrote
    assert consumer.revision_hash(details) == bytes(details["hash"])
    summary = golden("qldb-sample-block-summary.ion")["payload"]
    assert bytes(details["hash"]) in [bytes(e) for e in summary["entriesHashList"]]


def test_every_record_of_a_ledger_verifies(vehicles: Any) -> None:
    values = list(vehicles.stream())
    expected = list(deliver.records(vehicles.journal, deliver.StreamSpec()))
    parsed = [{"record": v, "partitionKey": r.partition_key} for v, r in zip(values, expected, strict=True)]
    checked = consumer.check_delivery(parsed, [r for r in expected if r is not None])
    assert checked.blocks == list(range(vehicles.digest().tip.sequence_no + 1))
    assert checked.revisions == 6  # 3 inserts, a vehicle, an update, a delete (DDL: none)


def test_a_changed_record_fails_verification(vehicles: Any) -> None:
    detail = _ours(vehicles, "REVISION_DETAILS", "Vehicle")
    detail["payload"]["revision"]["data"]["Price"] = ion.loads("12.5")  # same number, other Ion
    assert consumer.revision_hash(detail["payload"]["revision"]) != bytes(
        detail["payload"]["revision"]["hash"]
    )
    summary = _ours(vehicles, "BLOCK_SUMMARY")["payload"]
    summary["transactionInfo"]["statements"][0]["statement"] = "SELECT 1"
    with pytest.raises(AssertionError, match="transactionInfo"):
        consumer.verify_summary(summary, None)


def test_deleted_and_ddl_revisions(vehicles: Any) -> None:
    values = list(vehicles.stream())
    details = [v["payload"] for v in values if v["recordType"] == "REVISION_DETAILS"]
    assert {d["tableInfo"]["tableName"] for d in details} == {"Person", "Vehicle"}
    deleted = [d for d in details if "data" not in d["revision"]]
    assert len(deleted) == 1 and deleted[0]["revision"]["metadata"]["version"] == 1
    first = next(v for v in values if v["recordType"] == "BLOCK_SUMMARY")["payload"]
    (ddl,) = first["revisionSummaries"]  # CREATE TABLE: summarized, not detailed
    assert set(ddl) == {"hash", "documentId"}


def test_redacted_revision_carries_its_data_hash(vehicles: Any) -> None:
    vehicles.execute("UPDATE Vehicle SET Price = 13")
    row = next(iter(vehicles.execute(
        "SELECT h.blockAddress, h.metadata.id AS id FROM history(Vehicle) AS h "
        "WHERE h.metadata.version = 0"
    )))
    (table,) = vehicles.execute(
        "SELECT VALUE tableId FROM information_schema.user_tables WHERE name = 'Vehicle'"
    )
    vehicles.execute("EXEC REDACT_REVISION ?, ?, ?", row["blockAddress"], table, row["id"])
    values = list(vehicles.stream())
    (redacted,) = [
        v["payload"]["revision"] for v in values
        if v["recordType"] == "REVISION_DETAILS" and "dataHash" in v["payload"]["revision"]
    ]
    assert consumer.revision_hash(redacted) == bytes(redacted["hash"])
    last = [v for v in values if v["recordType"] == "BLOCK_SUMMARY"][-1]["payload"]
    assert "redactionInfo" in last
    assert ion_hash(last["redactionInfo"]) in [bytes(e) for e in last["entriesHashList"]]
    consumer.verify_summary(last, None)


# -- a consumer written like AWS's samples ------------------------------------------------
def _events(values: list[Any], keys: list[str], aggregate: bool) -> list[dict[str, Any]]:
    if not aggregate:
        return [
            {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": k, "sequenceNumber": str(i),
                         "approximateArrivalTimestamp": 1576048851.397,
                         "data": base64.b64encode(encode.to_bytes(v)).decode()}}
            for i, (v, k) in enumerate(zip(values, keys, strict=True))
        ]
    agg = AggRecord()
    for v, k in zip(values, keys, strict=True):
        assert agg.add_user_record(k, encode.to_bytes(v))
    pk, _, data = agg.get_contents()
    return [{"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": pk, "sequenceNumber": "1",
                         "approximateArrivalTimestamp": 1576048851.397,
                         "data": base64.b64encode(data).decode()}}]


@pytest.mark.parametrize("aggregate", [False, True], ids=["plain", "aggregated"])
def test_sample_consumer_reads_our_records(vehicles: Any, aggregate: bool) -> None:
    records = [r for r in deliver.records(vehicles.journal, deliver.StreamSpec()) if r is not None]
    parsed = consumer.handle(_events([r.value for r in records], [r.partition_key for r in records], aggregate))
    assert [p["partitionKey"] for p in parsed] == [r.partition_key for r in records]
    people = {
        str(p["revision_metadata"]["id"]): p["revision_data"]
        for p in parsed
        if p.get("table_info") and p["table_info"]["tableName"] == "Person"
        and p["revision_metadata"]["version"] == 0
    }
    current = {str(r["id"]): r["d"] for r in vehicles.execute("SELECT id, d FROM Person AS d BY id")}
    for doc_id, data in current.items():
        if data["GovId"] != "P1":
            assert dict(people[doc_id]) == dict(data)
    consumer.check_delivery(parsed, records)


def test_partition_keys(vehicles: Any) -> None:
    records = [r for r in deliver.records(vehicles.journal, deliver.StreamSpec()) if r is not None]
    strand = vehicles.strand_id
    for r in records:
        if r.record_type == "REVISION_DETAILS":
            assert r.partition_key == str(r.value["payload"]["revision"]["metadata"]["id"])
        else:
            assert r.partition_key == strand


# -- bounds ----------------------------------------------------------------------------------
def _seqs(values: list[Any]) -> list[int]:
    return [int(v["payload"]["blockAddress"]["sequenceNo"]) for v in values
            if v["recordType"] == "BLOCK_SUMMARY"]


def test_start_and_end_by_sequence_number(vehicles: Any) -> None:
    tip = vehicles.digest().tip.sequence_no
    values = list(vehicles.stream(2, 5))
    assert _seqs(values) == [2, 3, 4]
    assert values[0]["payload"] == {"controlRecordType": "CREATED"}
    assert values[-1]["payload"] == {"controlRecordType": "COMPLETED"}
    open_ended = list(vehicles.stream(tip))
    assert _seqs(open_ended) == [tip] and open_ended[-1]["recordType"] != "CONTROL"
    assert [v["recordType"] for v in vehicles.stream(tip + 5)] == ["CONTROL"]


def test_start_and_end_by_time(vehicles: Any) -> None:
    summaries = [v["payload"] for v in vehicles.stream() if v["recordType"] == "BLOCK_SUMMARY"]
    third = summaries[3]["blockTimestamp"]
    values = list(vehicles.stream(start=third))
    assert _seqs(values)[0] <= 3 and _seqs(values)[-1] == len(summaries) - 1
    ended = list(vehicles.stream(end=third))
    assert all(s < 3 for s in _seqs(ended)) and ended[-1]["payload"]["controlRecordType"] == "COMPLETED"
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert _seqs(list(vehicles.stream(start=future))) == []


def test_parse_position() -> None:
    assert parse_position("12") == 12
    moment = parse_position("2026-01-31T09:00:00Z")
    assert isinstance(moment, dt.datetime) and moment.tzinfo is not None and moment.hour == 9
    assert parse_position("2026-01-31T").tzinfo is not None
    for bad in ["", "-3", "x1", "{a:1}", "1.5"]:
        with pytest.raises(ProgrammingError, match="neither a block sequenceNo nor a timestamp"):
            parse_position(bad)


def test_negative_bounds(vehicles: Any) -> None:
    with pytest.raises(ProgrammingError, match="start sequenceNo must be >= 0"):
        list(vehicles.stream(-1))
    with pytest.raises(ProgrammingError, match="end sequenceNo must be >= 0"):
        list(vehicles.stream(0, -2))


# -- following ---------------------------------------------------------------------------
def test_follow_waits_for_commits_and_cancel_ends_it(vehicles: Any, tmp_path: Path) -> None:
    cancel = threading.Event()
    got: list[Any] = []
    tip = vehicles.digest().tip.sequence_no
    follower = threading.Thread(
        target=lambda: got.extend(vehicles.stream(tip + 1, follow=True, cancel=cancel)), daemon=True
    )
    follower.start()
    time.sleep(0.3)
    with ledger.connect(vehicles.path) as other:  # another connection commits
        other.execute("INSERT INTO Person ?", {"GovId": "P9"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(got) < 3:
        time.sleep(0.02)
    cancel.set()
    follower.join(timeout=5)
    assert not follower.is_alive()
    assert [v["recordType"] for v in got] == ["CONTROL", "BLOCK_SUMMARY", "REVISION_DETAILS"]
    assert got[2]["payload"]["revision"]["data"]["GovId"] == "P9"  # and no COMPLETED


def test_follow_ends_at_its_end(vehicles: Any) -> None:
    tip = vehicles.digest().tip.sequence_no
    got: list[Any] = []
    follower = threading.Thread(target=lambda: got.extend(vehicles.stream(tip + 1, tip + 2, follow=True)))
    follower.start()
    time.sleep(0.2)
    vehicles.execute("INSERT INTO Person ?", {"GovId": "P10"})
    follower.join(timeout=10)
    assert not follower.is_alive()
    assert got[-1]["payload"] == {"controlRecordType": "COMPLETED"} and _seqs(got) == [tip + 1]


def test_the_waiter_wakes_on_a_commit_not_on_its_interval(vehicles: Any) -> None:
    with CommitWaiter(vehicles.path, interval=30) as waiter:
        assert waiter.uses_inotify
        threading.Timer(0.2, lambda: vehicles.execute("INSERT INTO Person ?", {"GovId": "W"})).start()
        begun = time.monotonic()
        assert waiter.wait()
        assert time.monotonic() - begun < 10
        time.sleep(SETTLE * 2)  # past the short waits that follow an event
        threading.Timer(0.1, waiter.wake).start()
        assert waiter.wait()


# -- checkpoints -----------------------------------------------------------------------
def test_checkpoint_round_trip_and_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "c.json")
    cp = checkpoint.Checkpoint("S" * 22, "I" * 22, "arn", 7, end_ms=5, created=True)
    checkpoint.save(path, cp)
    assert checkpoint.load(path) == cp
    assert checkpoint.load(str(tmp_path / "none.json")) is None
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="unreadable"):
        checkpoint.load(str(tmp_path / "bad.json"))
    (tmp_path / "other.json").write_text('{"format": "x"}')
    with pytest.raises(DataError, match="not a stream checkpoint"):
        checkpoint.load(str(tmp_path / "other.json"))
    (tmp_path / "new.json").write_text('{"format": "ledger.stream-checkpoint", "formatVersion": 9}')
    with pytest.raises(DataError, match="upgrade ledger"):
        checkpoint.load(str(tmp_path / "new.json"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".checkpoint-")] == []


def test_a_checkpoint_of_another_ledger_is_refused(vehicles: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "c.json")
    checkpoint.save(path, checkpoint.Checkpoint("X" * 22, "I" * 22, "arn", 0))
    with pytest.raises(ProgrammingError, match="belongs to the ledger with strand"):
        deliver.open_checkpoint(vehicles.journal, deliver.StreamSpec(), path)


# -- property: any history streams completely and verifies ------------------------------
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["insert", "update", "delete"]), st.integers(0, 4)),
                min_size=1, max_size=12))
def test_any_history_streams_and_verifies(ops: list[tuple[str, int]]) -> None:
    with ledger.connect(":memory:") as db:
        db.execute("CREATE TABLE T")
        revisions = 0
        for op, n in ops:
            if op == "insert":
                db.execute("INSERT INTO T ?", {"n": n})
                revisions += 1
            elif op == "update":
                revisions += len(list(db.execute("UPDATE T SET m = 1 WHERE n = ?", n)))
            else:
                revisions += len(list(db.execute("DELETE FROM T WHERE n = ?", n)))
        records = [r for r in deliver.records(db.journal, deliver.StreamSpec()) if r is not None]
        parsed = [{"record": r.value, "partitionKey": r.partition_key} for r in records]
        checked = consumer.check_delivery(parsed, records)
        assert checked.revisions == revisions
        assert checked.blocks == list(range(db.digest().tip.sequence_no + 1))
        assert dot(b"", b"") == b""  # the genesis rule the verifier relies on


@pytest.mark.parametrize("backend", ["lmdb", "postgresql"], indirect=True)
def test_follow_on_either_backend_is_woken_by_a_commit(location: str) -> None:
    """A follower on PostgreSQL waits on LISTEN/NOTIFY (the store's watch), on LMDB on
    inotify: a commit from another connection wakes it long before its 30 s interval."""
    with ledger.connect(location) as db:
        db.execute("CREATE TABLE Person")
        store_watch = location.startswith("postgresql")
        with CommitWaiter(db.path, db.journal.store, interval=30) as waiter:
            assert (waiter._store_watch is not None) == store_watch
            assert waiter.uses_inotify != store_watch
            with ledger.connect(location) as other:
                other.execute("INSERT INTO Person ?", {"GovId": "P11"})
            started = time.monotonic()
            assert waiter.wait(timeout=20)
            assert time.monotonic() - started < 5
            threading.Timer(0.2, waiter.wake).start()  # wake() ends a store wait too
            started = time.monotonic()
            waiter.wait(timeout=20)
            assert time.monotonic() - started < 5
