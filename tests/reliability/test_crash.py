"""Crash safety: writers killed with SIGKILL at random moments lose no acknowledged
commit, leave no partial block, and the ledger verifies and takes writes again.

A writer process commits transactions in a loop and reports each acknowledged
document id on a pipe; the test kills it after a random delay, reopens the ledger and
checks.  ``LEDGER_SOAK=1`` (``make soak``) runs many more rounds.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import time

import pytest

import ledger
from ledger.hashing import merkle_root, verify_block

SOAK = os.environ.get("LEDGER_SOAK") == "1"
ROUNDS = 200 if SOAK else 20
MULTI_ROUNDS = 50 if SOAK else 5


def _writer(path: str, tag: str, conn) -> None:  # runs in a child process
    with ledger.connect(path) as db:
        n = 0
        while True:
            with db.transaction() as tx:
                rows = list(tx.execute("INSERT INTO Crash ?", [{"w": tag, "n": n}, {"w": tag, "n": n + 1}]))
            conn.send([str(r["documentId"]) for r in rows])  # acknowledged: committed durably
            n += 2


def _start(ctx, path: str, tag: str):
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_writer, args=(str(path), tag, child), daemon=True)
    proc.start()
    child.close()
    return proc, parent


def _drain(conn) -> list[str]:
    acked: list[str] = []
    try:
        while conn.poll():
            acked.extend(conn.recv())
    except (EOFError, OSError):
        pass  # the writer died mid-send: that batch was never acknowledged to us
    return acked


def _check(path: str, acked: set[str]) -> None:
    with ledger.connect(path) as db:
        present = set(db.execute("SELECT VALUE id FROM Crash AS c BY id"))
        missing = acked - {str(p) for p in present}
        assert not missing, f"{len(missing)} acknowledged documents lost"
        txn = db.journal.store.read()
        try:
            tip = db.journal.tip(txn).seq
            hashes = []
            for seq in range(tip + 1):
                block = db.journal.load_block(txn, seq)  # no partial block
                verify_block(block)
                hashes.append(block["blockHash"])
            assert db.journal.digest(txn)[0] == merkle_root(hashes)
        finally:
            txn.close()
        report = db.verify()
        assert report.verified, report.failure
        db.execute("INSERT INTO Crash ?", {"w": "after", "n": 0})  # writing continues


def _round(ctx, path: str, writers: int, rng: random.Random, acked: set[str]) -> None:
    started = [_start(ctx, path, f"w{k}") for k in range(writers)]
    for _, conn in started:  # kill while writing, not while starting up
        if conn.poll(30):
            acked.update(conn.recv())
    time.sleep(rng.uniform(0.0, 0.15))
    for proc, conn in started:
        acked.update(_drain(conn))
        os.kill(proc.pid, signal.SIGKILL)
    for proc, conn in started:
        proc.join(10)
        acked.update(_drain(conn))
        conn.close()
    _check(path, acked)


def _rounds(location: str, rounds: int) -> int:
    """PostgreSQL's rounds re-read the whole chain over the network: half as many in CI."""
    return rounds if SOAK or not location.startswith("postgresql") else rounds // 2


@pytest.fixture
def crash_ledger(location: str) -> str:
    """On LMDB and on PostgreSQL (a killed client's transaction is rolled back by the
    server when its connection drops)."""
    path = location
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Crash")
    return path


def test_single_writer_killed_at_random_moments(crash_ledger: str):
    ctx = mp.get_context("spawn")
    rng = random.Random(7)
    acked: set[str] = set()
    for _ in range(_rounds(crash_ledger, ROUNDS)):
        _round(ctx, crash_ledger, 1, rng, acked)
    assert len(acked) > ROUNDS  # the writers did make progress


def test_several_writers_killed_at_once(crash_ledger: str):
    ctx = mp.get_context("spawn")
    rng = random.Random(11)
    acked: set[str] = set()
    for _ in range(_rounds(crash_ledger, MULTI_ROUNDS)):
        _round(ctx, crash_ledger, 3, rng, acked)
    assert len(acked) > MULTI_ROUNDS
