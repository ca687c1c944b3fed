"""Ledgers and SQLite files that several scenarios measure, built once per process.

- ``vehicles(n)``: n documents (bench/docs.py) loaded 40 per transaction into table
  ``Vehicle`` with an index on ``VIN``, and the same rows in SQLite (WAL,
  synchronous=FULL) with an expression index on ``json_extract(doc, '$.VIN')``.
  G5 (lookups), G6 (verify) and G9 (space) share them.
- ``Chain``: a ledger of one tiny document per block, grown on demand (G7, G8).  It is
  built fast but honestly: every block is a real transaction (``INSERT INTO t ?``)
  checked and appended by the ledger's own commit code, 256 transactions per durable
  LMDB write (what group commit does with 256 writers queued), so one fsync pair is
  shared by 256 blocks instead of paid by each.

Everything lives in one temporary directory on the real disk, removed at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import ledger
from bench.docs import as_json, documents

PER_TX = 40  # QLDB's documents-per-transaction limit
BUILD_BATCH = 256  # transactions per LMDB write when building a chain (group commit's MAX_BATCH)

_root: Path | None = None


def workdir() -> Path:
    """This process's scratch directory (on disk, not tmpfs: durable means durable)."""
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
        atexit.register(shutil.rmtree, _root, True)
    return _root


def fresh(name: str) -> Path:
    """A new path in the work directory (``name`` plus a counter)."""
    root = workdir()
    for k in range(10**6):
        path = root / f"{name}{k}"
        if not path.exists():
            return path
    raise RuntimeError("no free name")


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# -- SQLite, durable -----------------------------------------------------------------------
def sqlite_connect(path: Path, **options: Any) -> sqlite3.Connection:
    """A durable SQLite connection (WAL, synchronous=FULL), autocommit; ``options`` go
    to sqlite3.connect (e.g. timeout, check_same_thread)."""
    conn = sqlite3.connect(path, isolation_level=None, **options)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def sqlite_load(
    path: Path, docs: list[dict[str, Any]], per_commit: int, *, index: bool = False
) -> sqlite3.Connection:
    conn = sqlite_connect(path)
    conn.execute("CREATE TABLE Vehicle (id INTEGER PRIMARY KEY, doc TEXT)")
    if index:
        conn.execute("CREATE INDEX vin ON Vehicle (json_extract(doc, '$.VIN'))")
    for start in range(0, len(docs), per_commit):
        rows = [(as_json(d),) for d in docs[start : start + per_commit]]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO Vehicle (doc) VALUES (?)", rows)
        conn.execute("COMMIT")
    return conn


def sqlite_bytes(path: Path) -> int:
    """The database's size once its WAL is checkpointed into it (file + leftover WAL)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    total = 0
    for suffix in ("", "-wal"):
        p = Path(str(path) + suffix)
        if p.exists():
            total += p.stat().st_size
    return total


# -- the ledger ----------------------------------------------------------------------------
def ledger_load(db: Any, docs: list[dict[str, Any]], per_tx: int = PER_TX) -> None:
    for start in range(0, len(docs), per_tx):
        db.execute("INSERT INTO Vehicle ?", docs[start : start + per_tx])


class Vehicles:
    """n documents in a ledger (indexed on VIN) and in SQLite (expression index)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.docs = documents(n)
        self.ledger_path = fresh(f"vehicles{n}-")
        start = time.perf_counter()
        with ledger.connect(self.ledger_path) as db:
            db.execute("CREATE TABLE Vehicle")
            db.execute("CREATE INDEX ON Vehicle (VIN)")
            ledger_load(db, self.docs)
        self.ledger_seconds = time.perf_counter() - start
        self.sqlite_path = fresh(f"vehicles{n}-") .with_suffix(".db")
        start = time.perf_counter()
        sqlite_load(self.sqlite_path, self.docs, 1000, index=True).close()
        self.sqlite_seconds = time.perf_counter() - start
        log(
            f"fixture: {n:,} documents loaded (ledger {self.ledger_seconds:.1f} s, "
            f"SQLite {self.sqlite_seconds:.1f} s)"
        )


_vehicles: dict[int, Vehicles] = {}


def vehicles(n: int) -> Vehicles:
    if n not in _vehicles:
        _vehicles[n] = Vehicles(n)
    return _vehicles[n]


# -- a long chain of blocks ----------------------------------------------------------------
class Chain:
    """A ledger of tiny one-document blocks, grown with ``grow_to(n)``; stays open."""

    def __init__(self) -> None:
        self.path = fresh("chain-")
        self.db = ledger.connect(self.path)
        atexit.register(self.db.close)
        self.db.execute("CREATE TABLE t")
        self.blocks = self.tip() + 1
        self.build_seconds = 0.0

    def tip(self) -> int:
        return int(self.db.digest().tip.sequence_no)

    def grow_to(self, n: int) -> None:
        """Append tiny-document blocks until the journal holds ``n`` blocks."""
        if n <= self.blocks:
            return
        start, first = time.perf_counter(), self.blocks
        next_report = start + 30
        while self.blocks < n:
            count = min(BUILD_BATCH, n - self.blocks)
            _append_blocks(self.db, self.blocks, count)
            self.blocks = self.tip() + 1
            if time.perf_counter() > next_report:
                next_report += 30
                rate = (self.blocks - first) / (time.perf_counter() - start)
                log(f"chain: {self.blocks:,} of {n:,} blocks ({rate:,.0f} blocks/s)")
        self.build_seconds += time.perf_counter() - start


def _append_blocks(db: Any, first: int, count: int) -> None:
    """``count`` transactions of one INSERT each, committed as ``count`` blocks in one
    durable write.  Uses group commit's batch writer when it is importable, else
    ``count`` threads committing at once (group commit batches them the same way)."""
    try:
        from ledger.journal.commit import apply_plan, plan_commit
        from ledger.storage.group import _Request, run_all
    except ImportError:  # the internals moved: fall back to the public API
        _append_with_threads(db, first, count)
        return
    journal = db.journal
    batch = []
    for i in range(first, first + count):
        tx = db.transaction()
        tx.execute("INSERT INTO t ?", {"n": i})
        tx.abort()  # drops the snapshot; the write set stays for the batch writer
        batch.append(_Request(partial(plan_commit, journal, tx=tx), partial(apply_plan, journal)))
    outcomes = journal.store.write(lambda w: run_all(w, batch))
    for ok, outcome in outcomes:
        if not ok:
            raise outcome


def _append_with_threads(db: Any, first: int, count: int) -> None:
    def work(k: int) -> None:
        db.execute("INSERT INTO t ?", {"n": first + k})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


_chains: dict[int, Chain] = {}


def chain(n: int) -> Chain:
    """A chain ledger of at least ``n`` blocks (one per size asked for, kept open)."""
    if n not in _chains:
        _chains[n] = Chain()
    c = _chains[n]
    c.grow_to(n)
    return c


# -- timing helpers ------------------------------------------------------------------------
def each(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
    """Seconds each call of ``fn(item)`` took."""
    out = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        fn(item)
        out.append(clock() - start)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def disk_note() -> str:
    """The fsync cost of the disk the scenarios write to (a figure every durable rate
    depends on), measured now."""
    path = workdir() / "fsync-probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        times = []
        for i in range(30):
            os.pwrite(fd, os.urandom(4096), (i % 4) * 4096)
            start = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return f"fsync of 4 KiB here: {median(times) * 1e3:.2f} ms median"
