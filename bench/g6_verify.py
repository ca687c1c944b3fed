"""G6: full verify (``ledger.proof.verify.verify(db.journal)``: every hash, the chain,
the digest, and the replay against summary tables and indexes) of the indexed ledger of
bench/fixtures.py: n revisions in n/40 blocks.  No peer: the target is absolute."""

from __future__ import annotations

import time

import ledger
from bench.cores import both
from bench.fixtures import log, vehicles
from bench.stats import Measure, Row

TARGET = 60_000  # revisions/s


def run_one(quick: bool = False) -> Row:
    n, repeat = (10_000, 2) if quick else (100_000, 3)
    title = f"full verify of a {n:,}-revision ledger"
    try:
        from ledger.proof.verify import verify
    except ImportError as exc:
        return Row("G6", title, "not measured", "—", None, f"≥ {TARGET:,} revisions/s", None,
                   note=f"not measured: verify not available ({exc})")
    fx = vehicles(n)
    rates, blocks = [], 0
    with ledger.connect(fx.ledger_path) as db:
        for _ in range(repeat):
            start = time.perf_counter()
            report = verify(db.journal)
            seconds = time.perf_counter() - start
            if not report.verified:
                return Row("G6", title, "verify failed", "—", None, f"≥ {TARGET:,} revisions/s",
                           False, note=f"verify reported: {report.failure}")
            rates.append(report.revisions / seconds)
            blocks = report.blocks
            log(f"G6: {report.revisions:,} revisions, {blocks:,} blocks in {seconds:.2f} s")
    m = Measure(rates)
    return Row(
        "G6", title, f"{m.median:,.0f} revisions/s ±{m.spread:.0%}", "—", None,
        f"≥ {TARGET:,} revisions/s", m.median >= TARGET,
        note=(
            f"{blocks:,} blocks of 40 revisions; 1M revisions would take "
            f"{1e6 / m.median:,.0f} s at this rate (target < 17 s)"
        ),
    )


def run(quick: bool = False) -> list[Row]:
    return both(__name__, run_one, quick)
