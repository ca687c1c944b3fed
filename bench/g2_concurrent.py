"""G2: durable commits, 8 concurrent writers (threads), one document per transaction,
against SQLite's best configuration in the same run (WAL, synchronous=FULL): 8 threads on
their own connections, 8 threads sharing one connection under one lock, or 1 thread."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import ledger
from bench.cores import both
from bench.docs import as_json, documents
from bench.fixtures import sqlite_connect
from bench.stats import Row, rate

WRITERS = 8


def _threads(work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _ledger_run(path: Path, docs: list[dict]) -> int:
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Vehicle")

        def work(k: int) -> None:
            for doc in docs[k::WRITERS]:
                db.execute("INSERT INTO Vehicle ?", doc)

        _threads(work)
    return len(docs)


def _sqlite_setup(path: Path) -> None:
    setup = sqlite_connect(path)
    setup.execute("CREATE TABLE Vehicle (id INTEGER PRIMARY KEY, doc TEXT)")
    setup.close()


def _sqlite_shared(path: Path, docs: list[dict]) -> int:
    """8 threads, one connection, a Python lock around each transaction."""
    _sqlite_setup(path)
    conn = sqlite_connect(path, timeout=60, check_same_thread=False)
    lock = threading.Lock()

    def work(k: int) -> None:
        for doc in docs[k::WRITERS]:
            with lock:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO Vehicle (doc) VALUES (?)", (as_json(doc),))
                conn.execute("COMMIT")

    _threads(work)
    conn.close()
    return len(docs)


def _sqlite_single(path: Path, docs: list[dict]) -> int:
    """One thread committing every document in turn."""
    _sqlite_setup(path)
    conn = sqlite_connect(path)
    for doc in docs:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO Vehicle (doc) VALUES (?)", (as_json(doc),))
        conn.execute("COMMIT")
    conn.close()
    return len(docs)


def _sqlite_run(path: Path, docs: list[dict]) -> int:
    setup = sqlite_connect(path)
    setup.execute("CREATE TABLE Vehicle (id INTEGER PRIMARY KEY, doc TEXT)")
    setup.close()

    def work(k: int) -> None:
        conn = sqlite_connect(path, timeout=60, check_same_thread=False)
        for doc in docs[k::WRITERS]:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO Vehicle (doc) VALUES (?)", (as_json(doc),))
            conn.execute("COMMIT")
        conn.close()

    _threads(work)
    return len(docs)


def run_one(quick: bool = False) -> Row:
    n, repeat = (400, 3) if quick else (2000, 5)
    docs = documents(n)
    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(10**6))
        ours = rate(lambda: _ledger_run(Path(tmp) / f"l{next(runs)}", docs), repeat)
        peers = {
            name: rate(lambda fn=fn: fn(Path(tmp) / f"s{next(runs)}.db", docs), repeat)
            for name, fn in (("8 threads, own connections", _sqlite_run),
                             ("8 threads, one lock", _sqlite_shared),
                             ("1 thread", _sqlite_single))
        }
    best = max(peers, key=lambda name: peers[name].median)
    peer = peers[best]
    ratio = ours.median / peer.median
    others = "; ".join(f"{name} {m.median:,.0f}/s" for name, m in peers.items())
    return Row(
        "G2", f"durable commits/s, {WRITERS} writer threads, 1 document per transaction",
        f"{ours.median:,.0f}/s ±{ours.spread:.0%}",
        f"{peer.median:,.0f}/s ±{peer.spread:.0%} (SQLite, {best})",
        ratio, "≥ 1.5× SQLite's best", ratio >= 1.5, note=f"SQLite: {others}",
    )


def run(quick: bool = False) -> list[Row]:
    return both(__name__, run_one, quick)
