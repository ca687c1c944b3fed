"""G5: ``SELECT * FROM Vehicle WHERE VIN = ?`` (k = VIN, unique) on the indexed ledger of
bench/fixtures.py, the statement text reused (plan cache), each lookup its own
transaction as ``db.execute`` runs it; against SQLite's
``SELECT doc FROM Vehicle WHERE json_extract(doc, '$.VIN') = ?`` on an expression index
(the sqlite3 module's statement cache reuses the prepared statement).  Latency per lookup
includes fetching the one row decoded: Ion values for the ledger, ``json.loads`` of the
row's JSON text for SQLite (the note also gives SQLite returning the text unparsed).  Keys are drawn from the loaded
documents; rounds interleave ledger and SQLite."""

from __future__ import annotations

import json
import random
import time

import ledger
from bench.cores import both
from bench.fixtures import log, median, quantile, sqlite_connect, vehicles
from bench.stats import Measure, Row

STATEMENT = "SELECT * FROM Vehicle WHERE VIN = ?"
SQL = "SELECT doc FROM Vehicle WHERE json_extract(doc, '$.VIN') = ?"


def _uses_index(db: ledger.Ledger) -> str:
    try:
        from ledger.query.executor import explain

        with db.transaction() as tx:
            rows = explain(tx, STATEMENT, ["x"])
        return "; ".join(str(dict(r)) for r in rows)
    except Exception as exc:  # explain is a nicety, not the measure
        return f"explain failed: {exc}"


def run_one(quick: bool = False) -> Row:
    n, lookups, rounds = (10_000, 1000, 5) if quick else (100_000, 3000, 7)
    fx = vehicles(n)
    rng = random.Random(5)
    keys = [fx.docs[rng.randrange(n)]["VIN"] for _ in range(lookups)]
    ours, peer, peer_parsed, samples = [], [], [], []
    with ledger.connect(fx.ledger_path) as db:
        plan = _uses_index(db)
        conn = sqlite_connect(fx.sqlite_path)
        for key in keys[:50]:  # warm both (plan cache, page cache)
            assert len(db.execute(STATEMENT, key).fetchall()) == 1
            assert conn.execute(SQL, (key,)).fetchone() is not None
        clock = time.perf_counter
        for _ in range(rounds):
            start = clock()
            for key in keys:
                t0 = clock()
                rows = db.execute(STATEMENT, key).fetchall()
                samples.append(clock() - t0)
            ours.append((clock() - start) / len(keys))
            assert len(rows) == 1 and rows[0]["VIN"] == keys[-1]
            start = clock()
            for key in keys:
                conn.execute(SQL, (key,)).fetchone()
            peer.append((clock() - start) / len(keys))
            start = clock()
            for key in keys:
                json.loads(conn.execute(SQL, (key,)).fetchone()[0])
            peer_parsed.append((clock() - start) / len(keys))
        conn.close()
    o, pp, p = Measure(ours), Measure(peer), Measure(peer_parsed)
    ratio = o.median / p.median
    log(f"G5 plan: {plan}")
    return Row(
        "G5", f"indexed lookup by VIN on {n:,} documents, latency",
        f"{o.median * 1e6:,.1f} µs ±{o.spread:.0%}",
        f"{p.median * 1e6:,.1f} µs ±{p.spread:.0%} (SQLite + json.loads)",
        ratio, "≤ 3× SQLite", ratio <= 3,
        note=(
            f"ledger per-lookup p50 {median(samples) * 1e6:.1f} µs, p99 "
            f"{quantile(samples, 0.99) * 1e6:.1f} µs; SQLite returning the JSON text unparsed "
            f"{pp.median * 1e6:.1f} µs (ratio {o.median / pp.median:.2f}×); plan: {plan}"
        ),
    )


def run(quick: bool = False) -> list[Row]:
    return both(__name__, run_one, quick)
