"""What a durable LMDB commit costs by itself, against SQLite's, in the same run:
``python -m bench.lmdb_pages [--rounds 8]``.

The ledger commits one LMDB write transaction per block with ``sync`` and ``metasync``
on: LMDB writes every dirty page, fdatasyncs the data file, then writes the meta page
through an O_DSYNC descriptor — two flushes, where SQLite in WAL mode with
synchronous=FULL appends one WAL frame and flushes once.  Each named database the
commit touches dirties at least its own leaf page (plus branch pages and the main
database's record of its root), so the pages written, and the time the flushes take,
grow with the number of databases touched.  This measures raw LMDB commits of small
values into k of 12 prepopulated databases (k = 1, 2, 4, 8, 12), one database with 8
key prefixes, ``metasync=False`` (one flush), and SQLite single-row commits; rounds
interleave them.  No ledger code runs: it is the floor under G1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from typing import Any

import lmdb

PREFILL = 20_000
DBS = 12


def _env(path: str, metasync: bool) -> tuple[lmdb.Environment, list, Any]:
    env = lmdb.open(path, map_size=1 << 30, max_dbs=DBS + 2, sync=True, metasync=metasync)
    dbs = [env.open_db(f"d{i}".encode()) for i in range(DBS)]
    one = env.open_db(b"one")
    with env.begin(write=True) as txn:
        for d in dbs:
            for k in range(PREFILL):
                txn.put(struct.pack(">Q", k), b"v" * 40, db=d)
        for p in range(8):
            for k in range(PREFILL):
                txn.put(bytes([p]) + struct.pack(">Q", k), b"v" * 40, db=one)
    return env, dbs, one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lmdb_pages", description=__doc__)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--commits", type=int, default=40, help="commits per case per round")
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="lmdb-pages-")
    try:
        env, dbs, one = _env(os.path.join(root, "sync"), True)
        env1, dbs1, _ = _env(os.path.join(root, "nometa"), False)
        conn = sqlite3.connect(os.path.join(root, "s.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT)")
        conn.executemany("INSERT INTO t (doc) VALUES (?)", [("x" * 300,)] * 2000)
        counter = [PREFILL]

        def lmdb_case(e: lmdb.Environment, ds: list, k: int) -> Callable[[], None]:
            def commit() -> None:
                counter[0] += 1
                key = struct.pack(">Q", counter[0])
                with e.begin(write=True) as txn:
                    for i, d in enumerate(ds[:k]):
                        txn.put(key, b"v" * (300 if i == 0 else 40), db=d)
            return commit

        def prefixes(k: int) -> Callable[[], None]:
            def commit() -> None:
                counter[0] += 1
                key = struct.pack(">Q", counter[0])
                with env.begin(write=True) as txn:
                    for p in range(k):
                        txn.put(bytes([p]) + key, b"v" * (300 if p == 0 else 40), db=one)
            return commit

        def sqlite_commit() -> None:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t (doc) VALUES (?)", ("x" * 300,))
            conn.execute("COMMIT")

        cases: dict[str, Callable[[], None]] = {"SQLite WAL, synchronous=FULL": sqlite_commit}
        for k in (1, 2, 4, 8, 12):
            cases[f"LMDB sync+metasync, {k} DB(s)"] = lmdb_case(env, dbs, k)
        cases["LMDB sync+metasync, 1 DB, 8 key prefixes"] = prefixes(8)
        cases["LMDB metasync=False, 8 DBs"] = lmdb_case(env1, dbs1, 8)
        rates: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, commit in cases.items():
                start = time.perf_counter()
                for _ in range(args.commits):
                    commit()
                rates[name].append(args.commits / (time.perf_counter() - start))
        peer = statistics.median(rates["SQLite WAL, synchronous=FULL"])
        print(f"{'case':44s} {'commits/s':>10s} {'× SQLite':>9s}")
        for name, values in rates.items():
            m = statistics.median(values)
            print(f"{name:44s} {m:10,.0f} {m / peer:9.2f}")
        conn.close()
        env.close()
        env1.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
