"""Optimistic concurrency: two connections (and two processes) racing on one document,
on a scanned table (phantom) and on an index range (phantom), with nothing written by
the loser; execute_lambda retries conflicts."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

import ledger
from ledger.query.context import Bound


@pytest.fixture
def ledger_path(location):
    """Both backends: an LMDB directory or a PostgreSQL URL (conftest.py)."""
    return location



@pytest.fixture
def two(ledger_path: Path):
    a = ledger.connect(ledger_path)
    b = ledger.connect(ledger_path)
    with a.transaction() as tx:
        table_id = tx.create_table("Account")
        tx.create_index(table_id, "owner")
        doc_id = tx.insert(table_id, {"owner": "ann", "balance": 100})
    yield a, b, table_id, doc_id
    a.close()
    b.close()


def _digest_unchanged(db, before):
    assert db.digest() == before


def test_same_document_conflicts_and_loser_writes_nothing(two):
    a, b, table_id, doc_id = two
    t1 = a.transaction()
    balance = t1.get(table_id, doc_id).data["balance"]
    with b.transaction() as t2:
        t2.update(table_id, doc_id, {"owner": "ann", "balance": 50})
    before = a.digest()
    t1.update(table_id, doc_id, {"owner": "ann", "balance": balance + 10})
    with pytest.raises(ledger.OccConflictError, match=f"document {doc_id} changed"):
        t1.commit()
    _digest_unchanged(a, before)
    with a.transaction() as tx:
        assert tx.get(table_id, doc_id).data["balance"] == 50


def test_scan_phantom_conflicts(two):
    a, b, table_id, _ = two
    t1 = a.transaction()
    count = sum(1 for _ in t1.scan(table_id))
    with b.transaction() as t2:
        t2.insert(table_id, {"owner": "bob", "balance": 1})
    t1.insert(table_id, {"owner": "count", "balance": count})
    with pytest.raises(ledger.OccConflictError, match="scanned"):
        t1.commit()


def test_index_range_phantom_conflicts(two):
    a, b, table_id, _ = two
    t1 = a.transaction()
    assert list(t1.index_range(table_id, "owner", Bound("bob"), Bound("bob"))) == []
    with b.transaction() as t2:
        t2.insert(table_id, {"owner": "bob", "balance": 1})
    t1.insert(table_id, {"owner": "bob", "balance": 2})  # "insert if absent"
    with pytest.raises(ledger.OccConflictError, match="range"):
        t1.commit()


def test_disjoint_index_ranges_do_not_conflict(two):
    a, b, table_id, _ = two
    t1 = a.transaction()
    assert list(t1.index_range(table_id, "owner", Bound("carl"), Bound("carl"))) == []
    with b.transaction() as t2:
        t2.insert(table_id, {"owner": "bob", "balance": 1})
    t1.insert(table_id, {"owner": "carl", "balance": 2})
    t1.commit()


def test_ddl_conflicts_with_concurrent_writers(two):
    a, b, table_id, _ = two
    t1 = a.transaction()
    t1.insert(table_id, {"owner": "x"})
    with b.transaction() as t2:
        t2.drop_table(table_id)
    with pytest.raises(ledger.OccConflictError, match="catalog"):
        t1.commit()


def test_execute_lambda_retries_until_it_wins(two):
    a, b, table_id, doc_id = two
    attempts = []

    def transfer(tx):
        attempts.append(1)
        doc = tx.get(table_id, doc_id)
        if len(attempts) == 1:  # a concurrent writer sneaks in once
            with b.transaction() as other:
                other.update(table_id, doc_id, {"owner": "ann", "balance": 0})
        tx.update(table_id, doc_id, {"owner": "ann", "balance": doc.data["balance"] + 1})
        return len(attempts)

    assert a.execute_lambda(transfer) == 2
    with a.transaction() as tx:
        assert tx.get(table_id, doc_id).data["balance"] == 1


def test_execute_lambda_gives_up_after_retries(two):
    a, b, table_id, doc_id = two

    def always_loses(tx):
        doc = tx.get(table_id, doc_id)
        with b.transaction() as other:
            other.update(table_id, doc_id, {"owner": "ann", "balance": doc.data["balance"] + 1})
        tx.update(table_id, doc_id, {"owner": "ann", "balance": -1})

    with pytest.raises(ledger.OccConflictError):
        a.execute_lambda(always_loses, retries=2, backoff=0.001)


def _increment(path: str, table_id: str, doc_id: str, n: int, out: mp.Queue) -> None:
    conflicts = 0
    with ledger.connect(path) as db:
        for _ in range(n):
            def bump(tx):
                doc = tx.get(table_id, doc_id)
                tx.update(table_id, doc_id, {"owner": "ann", "balance": doc.data["balance"] + 1})

            while True:
                try:
                    db.execute_lambda(bump, retries=0)
                    break
                except ledger.OccConflictError:
                    conflicts += 1
    out.put(conflicts)


def test_two_processes_race_without_lost_updates(two, ledger_path):
    a, _, table_id, doc_id = two
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    n = 25
    procs = [ctx.Process(target=_increment, args=(str(ledger_path), table_id, doc_id, n, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    [out.get(timeout=5) for _ in procs]
    with a.transaction() as tx:
        doc = tx.get(table_id, doc_id)
        assert doc.data["balance"] == 100 + 2 * n  # no lost update
        assert doc.version == 2 * n
