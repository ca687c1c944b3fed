"""Group commit: transactions queued behind a write share the next one, each keeps its
own block and its own OCC check, and nobody returns before the write is done."""

from __future__ import annotations

import threading
import time

import pytest

import ledger
from ledger.hashing import verify_block


class GatedStore:
    """Wraps a store's write so the first one waits until the test opens the gate (the
    group writer lives in the store, so the store's own write is what gets gated)."""

    def __init__(self, store):
        self._store = store
        self._write = store.write
        store.write = self.write
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.writes = 0

    def write(self, fn):
        self.writes += 1
        if self.writes == 1:
            self.entered.set()
            self.gate.wait(10)
        return self._write(fn)

    def __getattr__(self, name):
        return getattr(self._store, name)


def _chain(db):
    txn = db.journal.store.read()
    try:
        tip = db.journal.tip(txn).seq
        return [db.journal.load_block(txn, s) for s in range(tip + 1)]
    finally:
        txn.close()


def _commit_in_thread(tx, results, key):
    def run():
        try:
            tx.commit()
            results[key] = tx.block_address
        except ledger.Error as exc:
            results[key] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_queued_transactions_share_one_write_and_keep_their_blocks(db):
    with db.transaction() as tx:
        table_id = tx.create_table("T")
    gated = GatedStore(db.journal.store)
    first = db.transaction()
    first.insert(table_id, {"n": 0})
    results: dict = {}
    threads = [_commit_in_thread(first, results, 0)]
    assert gated.entered.wait(5)
    for n in range(1, 6):
        tx = db.transaction()
        tx.insert(table_id, {"n": n})
        threads.append(_commit_in_thread(tx, results, n))
    time.sleep(0.2)  # let them queue behind the held write
    assert results == {}  # nobody returned before its write
    gated.gate.set()
    for t in threads:
        t.join(10)
    assert gated.writes == 2  # the first transaction, then the five queued ones together
    seqs = sorted(results[n].sequence_no for n in range(6))
    assert seqs == list(range(1, 7))  # each its own block
    chain = _chain(db)
    for previous, block in zip(chain, chain[1:], strict=False):
        verify_block(block)
        assert block["previousBlockHash"] == previous["blockHash"]


def test_conflicts_inside_one_batch_fail_alone(db):
    with db.transaction() as tx:
        table_id = tx.create_table("T")
        doc_id = tx.insert(table_id, {"n": 0})
    gated = GatedStore(db.journal.store)
    blocker = db.transaction()
    blocker.insert(table_id, {"other": 1})
    results: dict = {}
    threads = [_commit_in_thread(blocker, results, "blocker")]
    assert gated.entered.wait(5)
    racers = []
    for n in (1, 2):  # both read the document, both update it
        tx = db.transaction()
        tx.update(table_id, doc_id, {"n": tx.get(table_id, doc_id).data["n"] + n})
        racers.append(tx)
    bystander = db.transaction()
    bystander.insert(table_id, {"n": 99})
    threads += [_commit_in_thread(racers[0], results, 1)]
    time.sleep(0.05)
    threads += [_commit_in_thread(racers[1], results, 2), _commit_in_thread(bystander, results, "b")]
    time.sleep(0.2)
    gated.gate.set()
    for t in threads:
        t.join(10)
    assert gated.writes == 2
    outcomes = [results[1], results[2]]
    assert sum(isinstance(o, ledger.OccConflictError) for o in outcomes) == 1
    assert isinstance(results["b"], ledger.query.context.BlockAddress)
    with db.transaction() as tx:
        assert tx.get(table_id, doc_id).data["n"] in (1, 2)


def test_many_threads_commit_every_transaction(db):
    with db.transaction() as tx:
        table_id = tx.create_table("T")
    errors = []

    def writer(k):
        try:
            for i in range(15):
                with db.transaction() as tx:
                    tx.insert(table_id, {"k": k, "i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    chain = _chain(db)
    assert len(chain) == 1 + 8 * 15
    for block in chain:
        verify_block(block)
    with db.transaction() as tx:
        assert sum(1 for _ in tx.scan(table_id)) == 8 * 15


def test_a_failed_write_fails_every_transaction_of_the_batch(db, monkeypatch):
    with db.transaction() as tx:
        table_id = tx.create_table("T")
    before = db.digest()

    def broken(fn):
        raise ledger.StorageError("disk full")

    monkeypatch.setattr(db.journal.store, "write", broken)
    tx = db.transaction()
    tx.insert(table_id, {"n": 1})
    with pytest.raises(ledger.StorageError, match="disk full"):
        tx.commit()
    monkeypatch.undo()
    assert db.digest() == before
    with db.transaction() as tx:  # the committer is usable again
        tx.insert(table_id, {"n": 2})
