"""Serializability under load: a bank.

N accounts; several processes, each with several threads, move money with
read-modify-write transactions through execute_lambda.  At the end the total is
unchanged, every committed transfer appears exactly once (as a Transfer document and
in the accounts' history), no balance went negative although every transfer checked
it, and conflicts were retried rather than lost.  ``LEDGER_SOAK=1`` runs longer.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import threading

import ledger

SOAK = os.environ.get("LEDGER_SOAK") == "1"
ACCOUNTS = 6
START = 100
PROCESSES = 2
THREADS = 3
TRANSFERS = 60 if SOAK else 12  # per thread


def _transfer(db: ledger.Ledger, rng: random.Random, tag: str) -> bool:
    src, dst = rng.sample(range(ACCOUNTS), 2)
    amount = rng.randint(1, 60)

    def move(tx: ledger.Transaction) -> bool:
        (a,) = tx.execute("SELECT VALUE a.balance FROM Account AS a WHERE a.n = ?", src)
        if a < amount:
            return False  # the check that keeps balances non-negative
        (b,) = tx.execute("SELECT VALUE a.balance FROM Account AS a WHERE a.n = ?", dst)
        tx.execute("UPDATE Account AS a SET a.balance = ? WHERE a.n = ?", a - amount, src)
        tx.execute("UPDATE Account AS a SET a.balance = ? WHERE a.n = ?", b + amount, dst)
        tx.execute("INSERT INTO Transfer ?", {"tag": tag, "src": src, "dst": dst, "amount": amount})
        return True

    return db.execute_lambda(move, retries=50, backoff=0.002)


def _worker(path: str, proc: int, out) -> None:  # a child process
    done = []
    with ledger.connect(path) as db:
        def thread(t: int) -> None:
            rng = random.Random(proc * 100 + t)
            for i in range(TRANSFERS):
                tag = f"p{proc}t{t}i{i}"
                if _transfer(db, rng, tag):
                    done.append(tag)

        threads = [threading.Thread(target=thread, args=(t,)) for t in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    out.put(done)


def test_transfers_keep_the_total_and_appear_exactly_once(location: str):
    """On LMDB and on PostgreSQL (each process its own connection pool)."""
    path = location
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Account")
        db.execute("CREATE TABLE Transfer")
        db.execute("CREATE INDEX ON Account (n)")
        db.execute("INSERT INTO Account ?", [{"n": n, "balance": START} for n in range(ACCOUNTS)])
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(path), p, out)) for p in range(PROCESSES)]
    for p in procs:
        p.start()
    committed = []
    for _ in procs:
        committed.extend(out.get(timeout=600))
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with ledger.connect(path) as db:
        balances = list(db.execute("SELECT VALUE a.balance FROM Account AS a"))
        assert sum(balances) == ACCOUNTS * START
        assert min(balances) >= 0
        tags = list(db.execute("SELECT VALUE t.tag FROM Transfer AS t"))
        assert sorted(tags) == sorted(committed)  # each committed transfer exactly once
        assert len(set(tags)) == len(tags)
        history = list(db.execute("SELECT VALUE h.data.balance FROM history(Account) AS h"))
        assert len(history) == ACCOUNTS + 2 * len(committed)  # two revisions per transfer
        assert min(history) >= 0  # never negative, at any point of history
    assert committed  # transfers did happen
