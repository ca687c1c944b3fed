"""Prepared point reads (``ledger.query.point.run_prepared``) and the reads under them.

Negative and known-answer cases around the registry: a prepared statement is run
directly only while the transaction sees the catalog it ran against (a dropped index, a
new table, another ledger with the same statement text, the transaction's own DDL or
writes all take the general way) and every way gives the rows, ReadIOs, read set and
errors the general pipeline gives.  Then the storage reads it uses: ``ReadTxn.keys``
against ``range`` (hypothesis), and ``index_equal``'s
records against ``index_range``'s.  Runtime: about 5 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger.query import executor, point
from ledger.query.context import Bound
from ledger.storage import lmdb_store

STATEMENT = "SELECT * FROM Car WHERE VIN = ?"


@pytest.fixture
def db(tmp_path: Path) -> Any:
    with ledger.connect(tmp_path / "p.ledger") as db:
        db.execute("CREATE TABLE Car")
        db.execute("CREATE INDEX ON Car (VIN)")
        db.execute("INSERT INTO Car ?", [{"VIN": f"V{i}", "n": i} for i in range(20)])
        yield db


def _prepared_runs(db: Any, statement: str, *params: Any, mode: str = "permissive") -> bool:
    """True when ``statement`` runs through the registry (no plan-cache look-up)."""
    before = executor.plan_cache_info()
    db.execute(statement, *params, mode=mode)
    after = executor.plan_cache_info()
    return (after["hits"], after["misses"]) == (before["hits"], before["misses"])


def test_a_point_read_is_prepared_after_its_first_run(db: Any) -> None:
    point.clear_prepared()
    assert not _prepared_runs(db, STATEMENT, "V1")
    assert (STATEMENT, "permissive") in point._prepared
    assert _prepared_runs(db, STATEMENT, "V2")
    cursor = db.execute(STATEMENT, "V3")
    assert [(r["VIN"], r["n"]) for r in cursor] == [("V3", 3)]
    assert cursor.get_consumed_ios() == {"ReadIOs": 1}
    assert db.execute(STATEMENT, "nope").fetchall() == []
    assert not _prepared_runs(db, STATEMENT, "V1", mode="strict")  # its own entry
    assert _prepared_runs(db, STATEMENT, "V1", mode="strict")


def test_a_catalog_change_takes_the_general_way_and_stays_right(db: Any) -> None:
    db.execute(STATEMENT, "V1")
    db.execute("CREATE TABLE Other")  # a new catalog: the entry's is no longer seen
    assert not _prepared_runs(db, STATEMENT, "V1")
    assert _prepared_runs(db, STATEMENT, "V1")  # registered again against the new one
    with db.transaction() as tx:
        info = tx.table("Car")
        table_id, index_id = info.table_id, info.index_on("VIN").index_id
    with db.transaction() as tx:
        tx.drop_index(table_id, index_id)
        # the transaction's own DDL: its catalog is not the committed one
        assert tx.catalog_token() is None
        assert [r["n"] for r in tx.execute(STATEMENT, "V4")] == [4]
    assert [r["n"] for r in db.execute(STATEMENT, "V5")] == [5]  # a scan now
    assert (STATEMENT, "permissive") in point._prepared  # stale: never matches again
    assert not _prepared_runs(db, STATEMENT, "V5")


def test_the_transactions_own_writes_are_seen(db: Any) -> None:
    db.execute(STATEMENT, "V1")
    with db.transaction() as tx:
        tx.execute("INSERT INTO Car ?", {"VIN": "V1", "n": 100})
        tx.execute("DELETE FROM Car WHERE n = 2")
        assert sorted(r["n"] for r in tx.execute(STATEMENT, "V1")) == [1, 100]
        assert tx.execute(STATEMENT, "V2").fetchall() == []


def test_two_ledgers_with_one_statement_text(tmp_path: Path) -> None:
    with ledger.connect(tmp_path / "a") as a, ledger.connect(tmp_path / "b") as b:
        for db, n in ((a, 1), (b, 2)):
            db.execute("CREATE TABLE Car")
            db.execute("CREATE INDEX ON Car (VIN)")
            db.execute("INSERT INTO Car ?", {"VIN": "X", "n": n})
        for _ in range(3):
            assert [r["n"] for r in a.execute(STATEMENT, "X")] == [1]
            assert [r["n"] for r in b.execute(STATEMENT, "X")] == [2]


def test_errors_are_the_general_paths(db: Any) -> None:
    db.execute(STATEMENT, "V1")
    with pytest.raises(ledger.ProgrammingError, match="wrong number of parameters"):
        db.execute(STATEMENT)
    with pytest.raises(ledger.ProgrammingError, match="mode must be one of"):
        db.execute(STATEMENT, "V1", mode="lenient")
    with pytest.raises(ledger.InterfaceError, match="already committed"):
        with db.transaction() as tx:
            tx.execute(STATEMENT, "V1")
            tx.commit()
            tx.execute(STATEMENT, "V1")  # a finished transaction refuses, prepared or not


def test_index_equal_records_what_index_range_records(db: Any) -> None:
    with db.transaction() as tx:
        info = tx.table("Car")
        index_id = info.index_on("VIN").index_id
        fast = tx.index_equal(info.table_id, index_id, "V7")
        fast_reads, fast_ios = (dict(tx.reads.docs), list(tx.reads.ranges)), tx.read_ios
    with db.transaction() as tx:
        slow = [(r.doc_id, r.data) for r in
                tx.index_range(info.table_id, "VIN", Bound("V7"), Bound("V7"))]
        assert (dict(tx.reads.docs), list(tx.reads.ranges)) == fast_reads
        assert tx.read_ios == fast_ios == 1
    assert [(d, dict(v)) for d, v in fast] == [(d, dict(v)) for d, v in slow]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(min_size=1, max_size=6), max_size=30), st.binary(max_size=6),
       st.one_of(st.none(), st.binary(max_size=6)))
def test_keys_are_the_keys_of_range(tmp_path: Path, keys: list[bytes], start: bytes,
                                    stop: bytes | None) -> None:
    store = lmdb_store.LmdbStore(str(tmp_path / "kv"))
    try:
        store.write(lambda w: [w.delete("index", k) for k, _ in list(w.range("index"))])
        store.write(lambda w: [w.put("index", k, b"") for k in keys])
        snap = store.read()
        try:
            assert snap.keys("index", start, stop) == [k for k, _ in snap.range("index", start, stop)]
        finally:
            snap.close()
    finally:
        store.close()
