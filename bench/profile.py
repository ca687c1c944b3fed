"""Profile the CPU of one scenario's hot loop: ``python -m bench.profile g1|g3|g5|g6|g7``.

Not a benchmark (no peer, no table): a tool for finding where the time goes.  The
ledger lives on tmpfs (/dev/shm) by default so that fsync waits do not hide the CPU
(``--disk`` puts it on the real disk).  ``--tool pyinstrument`` (default) prints a call
tree; ``--tool cprofile`` prints the top functions by own time and cumulative time.
Also reported: CPU µs per operation without a profiler attached, and (g1, g3) the
ledger's own counters: plan-cache hits and misses.

    python -m bench.profile g3 --n 4000
    python -m bench.profile g1 --tool cprofile
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

import ledger
from bench.docs import documents


def _workload(name: str, db: Any, n: int) -> tuple[Callable[[], None], int, str]:
    """(the loop to profile, how many operations it does, their name), set up in ``db``."""
    docs = documents(n)
    if name == "g1":
        db.execute("CREATE TABLE Vehicle")
        for doc in docs[:20]:
            db.execute("INSERT INTO Vehicle ?", doc)

        def g1() -> None:
            for doc in docs:
                db.execute("INSERT INTO Vehicle ?", doc)

        return g1, n, "commit"
    if name == "g3":
        db.execute("CREATE TABLE Vehicle")
        db.execute("INSERT INTO Vehicle ?", docs[:40])

        def g3() -> None:
            for start in range(0, n, 40):
                db.execute("INSERT INTO Vehicle ?", docs[start : start + 40])

        return g3, n, "document"
    db.execute("CREATE TABLE Vehicle")
    db.execute("CREATE INDEX ON Vehicle (VIN)")
    for start in range(0, n, 40):
        db.execute("INSERT INTO Vehicle ?", docs[start : start + 40])
    if name == "g5":
        rng = random.Random(1)
        keys = [docs[rng.randrange(n)]["VIN"] for _ in range(n)]
        for key in keys[:100]:
            db.execute("SELECT * FROM Vehicle WHERE VIN = ?", key)

        def g5() -> None:
            for key in keys:
                db.execute("SELECT * FROM Vehicle WHERE VIN = ?", key)

        return g5, n, "lookup"
    if name == "g6":
        from ledger.proof.verify import verify

        def g6() -> None:
            assert verify(db.journal).verified

        return g6, n, "revision"
    if name == "g7":
        for i in range(n):
            db.execute("INSERT INTO Vehicle ?", {"n": i})
        tip = db.digest().tip.sequence_no
        rng = random.Random(2)
        asks = []
        for _ in range(2000):
            seq = rng.randrange(1, tip + 1)
            block, _ = db.get_block(seq)
            asks.append((seq, str(block["revisions"][0]["metadata"]["id"])))

        def g7() -> None:
            for seq, doc in asks:
                db.get_revision(seq, doc, tip)

        return g7, len(asks), "proof"
    raise SystemExit(f"unknown workload {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("workload", choices=["g1", "g3", "g5", "g6", "g7"])
    parser.add_argument("--n", type=int, default=2000, help="documents (default 2000)")
    parser.add_argument("--tool", choices=["pyinstrument", "cprofile", "none"], default="pyinstrument")
    parser.add_argument("--disk", action="store_true", help="the real disk, not /dev/shm")
    parser.add_argument("--limit", type=int, default=40, help="cProfile rows")
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(dir=None if args.disk or not os.path.isdir("/dev/shm") else "/dev/shm")
    try:
        with ledger.connect(os.path.join(root, "profile")) as db:
            loop, count, unit = _workload(args.workload, db, args.n)
            cpu, wall = time.process_time(), time.perf_counter()
            loop()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"{args.workload}: {cpu / count * 1e6:.1f} µs CPU, {wall / count * 1e6:.1f} µs wall "
                  f"per {unit} (no profiler, {count} {unit}s)")
            if args.workload in ("g1", "g3", "g5"):
                from ledger.query.executor import plan_cache_info

                print(f"plan cache: {plan_cache_info()}")
            if args.tool == "pyinstrument":
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
                loop()
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False))
            elif args.tool == "cprofile":
                import cProfile
                import pstats

                prof = cProfile.Profile()
                prof.enable()
                loop()
                prof.disable()
                stats = pstats.Stats(prof)
                stats.sort_stats("tottime").print_stats(args.limit)
                stats.sort_stats("cumulative").print_stats(args.limit)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
