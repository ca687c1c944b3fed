"""G1: durable commits, one writer, one INSERT of one document per transaction,
against SQLite (WAL, synchronous=FULL) committing one row per transaction."""

from __future__ import annotations

import tempfile
from pathlib import Path

import ledger
from bench.cores import both
from bench.docs import as_json, documents
from bench.fixtures import sqlite_connect
from bench.stats import Row, rate


def _ledger_run(path: Path, docs: list[dict]) -> int:
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Vehicle")
        for doc in docs:
            db.execute("INSERT INTO Vehicle ?", doc)
    return len(docs)


def _sqlite_run(path: Path, docs: list[dict]) -> int:
    conn = sqlite_connect(path)
    conn.execute("CREATE TABLE Vehicle (id INTEGER PRIMARY KEY, doc TEXT)")
    for doc in docs:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO Vehicle (doc) VALUES (?)", (as_json(doc),))
        conn.execute("COMMIT")
    conn.close()
    return len(docs)


def run_one(quick: bool = False) -> Row:
    n, repeat = (200, 3) if quick else (1000, 5)
    docs = documents(n)
    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(10**6))
        ours = rate(lambda: _ledger_run(Path(tmp) / f"l{next(runs)}", docs), repeat)
        peer = rate(lambda: _sqlite_run(Path(tmp) / f"s{next(runs)}.db", docs), repeat)
    ratio = ours.median / peer.median
    return Row(
        "G1", "durable commits/s, 1 writer, 1 document per transaction",
        f"{ours.median:,.0f}/s ±{ours.spread:.0%}", f"{peer.median:,.0f}/s ±{peer.spread:.0%} (SQLite)",
        ratio, "≥ 0.8× SQLite", ratio >= 0.8,
    )


def run(quick: bool = False) -> list[Row]:
    return both(__name__, run_one, quick)
