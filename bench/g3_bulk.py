"""G3: bulk load, 40 documents per transaction (``INSERT INTO Vehicle ?`` with a list of
40, QLDB's per-transaction limit), against SQLite committing 1000 rows per transaction
(WAL, synchronous=FULL).  Both durable, both into a fresh table without secondary
indexes; the repetitions interleave ledger and SQLite."""

from __future__ import annotations

import time

import ledger
from bench.cores import both
from bench.docs import documents
from bench.fixtures import PER_TX, disk_note, fresh, ledger_load, log, sqlite_load
from bench.stats import Measure, Row

TARGET = 30_000  # documents/s


def _ledger_run(docs: list[dict]) -> float:
    with ledger.connect(fresh("g3-")) as db:
        db.execute("CREATE TABLE Vehicle")
        start = time.perf_counter()
        ledger_load(db, docs, PER_TX)
        return len(docs) / (time.perf_counter() - start)


def _sqlite_run(docs: list[dict]) -> float:
    start = time.perf_counter()
    sqlite_load(fresh("g3-").with_suffix(".db"), docs, 1000).close()
    return len(docs) / (time.perf_counter() - start)


def run_one(quick: bool = False) -> Row:
    n, repeat = (10_000, 2) if quick else (100_000, 3)
    docs = documents(n)
    ours, peer = [], []
    for k in range(repeat):
        ours.append(_ledger_run(docs))
        peer.append(_sqlite_run(docs))
        log(f"G3 {k + 1}/{repeat}: ledger {ours[-1]:,.0f} docs/s, SQLite {peer[-1]:,.0f} docs/s")
    o, p = Measure(ours), Measure(peer)
    ratio = o.median / p.median
    per_rep = ", ".join(f"{a / b:.3f}" for a, b in zip(ours, peer, strict=True))
    return Row(
        "G3", f"bulk load {n:,} documents, 40 per transaction (SQLite 1000 per commit)",
        f"{o.median:,.0f} docs/s ±{o.spread:.0%}", f"{p.median:,.0f} docs/s ±{p.spread:.0%} (SQLite)",
        ratio, f"≥ {TARGET:,} docs/s", o.median >= TARGET,
        note=(
            f"ledger {o.median:,.0f} docs/s = {TARGET / o.median:.1f}× short of {TARGET:,}/s; "
            f"ratio to SQLite per repetition: {per_rep}; {disk_note()}"
        ),
    )


def run(quick: bool = False) -> list[Row]:
    return both(__name__, run_one, quick)
