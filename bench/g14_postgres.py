"""G14: a ledger stored in PostgreSQL, against PostgreSQL itself, on one server, one run.

- Durable commits/s, 1 writer and 8 writer processes (three rounds, ledger and peer
  alternating, medians): ``INSERT INTO Event ?`` each its
  own transaction (one block each), against the same documents inserted as jsonb rows
  (``INSERT INTO peer (doc) VALUES (%s)``, autocommit: one transaction each) by psycopg.
  ``synchronous_commit=on``, ``fsync=on``: every commit waits for its WAL flush.
- Indexed point lookups: ``SELECT * FROM Vehicle WHERE VIN = ?`` (each its own
  transaction, as ``db.execute`` runs it) against ``SELECT doc FROM peer WHERE
  doc->>'VIN' = %s`` on a jsonb expression index.
- The same figures on LMDB, side by side (peer: the same PostgreSQL rows).
- The 8-writer figure again with ``concurrency=serializable`` (SERIALIZABLE with
  retries instead of the tip row locked FOR UPDATE): the measurement behind the default.

The server: ``LEDGER_BENCH_PG_URL`` (a database the bench may create schemas and a
``peer`` table in) or, by default, a throwaway one started as tests/pgserver.py does.
Targets (issue 16): commits >= 0.5x the peer's rate, lookups <= 3x its latency.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ledger
from bench.stats import Row

WRITERS = 8
ROUNDS = 3  # commit measurements, ledger and peer alternating; medians reported


def _server() -> tuple[str, Any]:
    url = os.environ.get("LEDGER_BENCH_PG_URL")
    if url:
        return url, None
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import pgserver

    server = pgserver.start_server()
    return server.url(), server


def _with_ledger(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}ledger={name}"


def _doc(writer: int, n: int) -> dict[str, Any]:
    return {"VIN": f"W{writer}N{n:07}", "Make": "Tesla", "Year": 2000 + n % 25,
            "Owner": {"Name": f"owner {n}", "City": "Seattle"}, "Miles": n * 7}


# -- commits ----------------------------------------------------------------------------------
def _ledger_writer(location: str, writer: int, count: int, start: Any, out: Any) -> None:
    with ledger.connect(location) as db:
        db.execute("SELECT * FROM Event WHERE VIN = 'warm'")
        start.wait()
        t0 = time.perf_counter()
        for n in range(count):
            db.execute("INSERT INTO Event ?", _doc(writer, n))
        out.put(time.perf_counter() - t0)


def _peer_writer(url: str, writer: int, count: int, start: Any, out: Any) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    from ledger.storage.postgres_store import PostgresUrl

    with psycopg.connect(PostgresUrl(url).conninfo, autocommit=True) as conn:
        start.wait()
        t0 = time.perf_counter()
        for n in range(count):
            conn.execute("INSERT INTO peer_event (doc) VALUES (%s)", (Jsonb(_doc(writer, n)),))
        out.put(time.perf_counter() - t0)


def _commit_rate(target: Any, location: str, writers: int, per_writer: int) -> float:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(location, w, per_writer, start, out))
             for w in range(writers)]
    for p in procs:
        p.start()
    time.sleep(1.5 if writers > 1 else 0.5)  # let them connect and warm up
    t0 = time.perf_counter()
    start.set()
    for _ in procs:
        out.get(timeout=600)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(60)
    return writers * per_writer / elapsed


# -- lookups ----------------------------------------------------------------------------------
def _load_vehicles(location: str, n: int) -> list[str]:
    with ledger.connect(location) as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("CREATE INDEX ON Vehicle (VIN)")
        docs = [_doc(9, i) for i in range(n)]
        for i in range(0, n, 40):  # QLDB's limit: 40 documents per transaction
            db.execute("INSERT INTO Vehicle ?", docs[i:i + 40])
    return [d["VIN"] for d in docs]


def _ledger_lookups(location: str, keys: list[str]) -> float:
    with ledger.connect(location) as db:
        for key in keys[:50]:
            assert len(db.execute("SELECT * FROM Vehicle WHERE VIN = ?", key).fetchall()) == 1
        t0 = time.perf_counter()
        for key in keys:
            db.execute("SELECT * FROM Vehicle WHERE VIN = ?", key).fetchall()
        return (time.perf_counter() - t0) / len(keys)


def _peer_lookups(conn: Any, keys: list[str]) -> float:
    sql = "SELECT doc FROM peer_vehicle WHERE doc->>'VIN' = %s"
    for key in keys[:50]:
        assert conn.execute(sql, (key,)).fetchone() is not None
    t0 = time.perf_counter()
    for key in keys:
        conn.execute(sql, (key,)).fetchone()
    return (time.perf_counter() - t0) / len(keys)


def _peer_setup(conn: Any, n: int) -> None:
    from psycopg.types.json import Jsonb

    conn.execute("DROP TABLE IF EXISTS peer_event, peer_vehicle")
    conn.execute("CREATE TABLE peer_event (id bigserial PRIMARY KEY, doc jsonb NOT NULL)")
    conn.execute("CREATE TABLE peer_vehicle (id bigserial PRIMARY KEY, doc jsonb NOT NULL)")
    conn.execute("CREATE INDEX ON peer_vehicle ((doc->>'VIN'))")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO peer_vehicle (doc) VALUES (%s)",
                        [(Jsonb(_doc(9, i)),) for i in range(n)])
    conn.execute("ANALYZE peer_vehicle")


def run(quick: bool = False) -> list[Row]:
    import psycopg

    from ledger.storage.postgres_store import PostgresUrl

    one, per8, vehicles, lookups = (200, 50, 5000, 500) if quick else (600, 150, 50_000, 3000)
    url, server = _server()
    tmp = Path(tempfile.mkdtemp(prefix="ledger-g14-"))
    stamp = f"{os.getpid()}_{int(time.time())}"
    try:
        with psycopg.connect(PostgresUrl(url).conninfo, autocommit=True) as conn:
            _peer_setup(conn, vehicles)
            places = {"postgresql": lambda tag: _with_ledger(url, f"g14_{tag}_{stamp}"),
                      "lmdb": lambda tag: str(tmp / f"{tag}.ledger")}
            figures: dict[str, dict[str, float]] = {}
            for backend, place in places.items():
                f = figures[backend] = {}
                for tag, writers, count in (("c1", 1, one), ("c8", WRITERS, per8)):
                    with ledger.connect(place(tag)) as db:
                        db.execute("CREATE TABLE Event")
                        db.execute("CREATE INDEX ON Event (VIN)")
                    ours, peer = [], []
                    for _ in range(ROUNDS):  # alternate: the machine's fsync cost drifts
                        ours.append(_commit_rate(_ledger_writer, place(tag), writers, count))
                        conn.execute("TRUNCATE peer_event")
                        peer.append(_commit_rate(_peer_writer, url, writers, count))
                    f[tag], f[f"peer_{tag}"] = statistics.median(ours), statistics.median(peer)
                if backend == "postgresql":  # the alternative concurrency mechanism
                    ser = place("ser") + "&concurrency=serializable"
                    with ledger.connect(ser) as db:
                        db.execute("CREATE TABLE Event")
                        db.execute("CREATE INDEX ON Event (VIN)")
                    f["c8_serializable"] = _commit_rate(_ledger_writer, ser, WRITERS, per8)
                keys = _load_vehicles(place("lookup"), vehicles)
                rng = random.Random(14)
                sample = [keys[rng.randrange(len(keys))] for _ in range(lookups)]
                f["lookup"] = _ledger_lookups(place("lookup"), sample)
                f["peer_lookup"] = _peer_lookups(conn, sample)
    finally:
        if server is not None:
            server.stop("fast")
            server.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    return _rows(figures, quick)


def _rows(figures: dict[str, dict[str, float]], quick: bool) -> list[Row]:
    rows = []
    for backend, f in figures.items():
        for tag, label in (("c1", "1 writer"), ("c8", f"{WRITERS} writer processes")):
            ratio = f[tag] / f[f"peer_{tag}"]
            rows.append(Row(
                "G14", f"durable commits/s, {label} ({backend})", f"{f[tag]:,.0f}/s",
                f"{f[f'peer_{tag}']:,.0f}/s (PostgreSQL jsonb rows)", ratio, "≥ 0.5×", ratio >= 0.5,
            ))
        if "c8_serializable" in f:
            ratio = f["c8_serializable"] / f["c8"]
            rows.append(Row(
                "G14", f"durable commits/s, {WRITERS} writers, SERIALIZABLE + retries ({backend})",
                f"{f['c8_serializable']:,.0f}/s", f"{f['c8']:,.0f}/s (tip row FOR UPDATE)", ratio,
                "informative", None,
            ))
        ratio = f["lookup"] / f["peer_lookup"]
        rows.append(Row(
            "G14", f"indexed point lookup ({backend})", f"{f['lookup'] * 1e6:,.0f} µs",
            f"{f['peer_lookup'] * 1e6:,.0f} µs (jsonb expression index)", ratio, "≤ 3×", ratio <= 3,
            note="quick sizes" if quick and backend == "lmdb" else "",
        ))
    return rows
