"""G8: growth.  Per-commit time and revision-proof time at 10k, 100k and 1M blocks
(quick: 1k and 10k), each size its own chain ledger (bench/fixtures.py: one tiny
document per block).  Per-commit: durable single-writer ``INSERT INTO t ?`` of one tiny
document per transaction (wall time, and the process's CPU time per commit, which the
fsyncs do not blur); proof: ``get_revision`` with proof to the tip for random blocks,
each proof's length checked against ⌈log2 n⌉ + the block's own terms.  The sizes are
measured in interleaved rounds so a drift of the machine hits them alike; the figure is
the ratio largest/smallest.  Draws bench/growth.png."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.fixtures import Chain, chain, disk_note, each, log, median
from bench.g7_proof import check_proofs, ledger_asks, revision_prover
from bench.stats import Measure, Row

PNG = Path(__file__).with_name("growth.png")


def sizes(quick: bool) -> list[int]:
    if quick:
        return [1_000, 10_000]
    top = int(os.environ.get("BENCH_MAX_BLOCKS", 1_000_000))
    return sorted({min(10_000, top), min(100_000, top), top})


def _commits(chains: dict[int, Chain], count: int) -> dict[int, tuple[float, float]]:
    """{size: (median wall, mean CPU) seconds per durable commit}: the sizes take turns
    commit by commit, so the disk's moods (its fsync time swings 20× here when other
    work shares it) fall on every size alike."""
    walls: dict[int, list[float]] = {n: [] for n in chains}
    cpus: dict[int, float] = dict.fromkeys(chains, 0.0)
    wall_clock, cpu_clock = time.perf_counter, time.process_time
    for i in range(count):
        for n, c in chains.items():
            start, cpu = wall_clock(), cpu_clock()
            c.db.execute("INSERT INTO t ?", {"n": -i})
            cpus[n] += cpu_clock() - cpu
            walls[n].append(wall_clock() - start)
    for c in chains.values():
        c.blocks += count
    return {n: (median(walls[n]), cpus[n] / count) for n in chains}


def run(quick: bool = False) -> Row:
    ns = sizes(quick)
    commits, proofs, rounds = (60, 200, 3) if quick else (100, 300, 5)
    chains = {n: chain(n) for n in ns}
    wall: dict[int, list[float]] = {n: [] for n in ns}
    cpu: dict[int, list[float]] = {n: [] for n in ns}
    proof: dict[int, list[float]] = {n: [] for n in ns}
    lengths = {}
    provers = {n: revision_prover(chains[n]) for n in ns}
    for n in ns:
        lengths[n] = check_proofs(chains[n], ledger_asks(chains[n], 50, n), provers[n])
    for r in range(rounds):
        for n, (w, c) in _commits(chains, commits).items():
            wall[n].append(w)
            cpu[n].append(c)
        asks = {n: ledger_asks(chains[n], proofs, n + r) for n in ns}
        took: dict[int, list[float]] = {n: [] for n in ns}
        for k in range(proofs):  # sizes take turns here too
            for n in ns:
                took[n] += each(provers[n], asks[n][k : k + 1])
        for n in ns:
            proof[n].append(median(took[n]))
        log(f"G8 round {r + 1}/{rounds}: " + ", ".join(
            f"{n:,}: commit {wall[n][-1] * 1e3:.2f} ms (CPU {cpu[n][-1] * 1e3:.2f}), "
            f"proof {proof[n][-1] * 1e3:.3f} ms" for n in ns))
    lo, hi = ns[0], ns[-1]
    mw = {n: Measure(wall[n]) for n in ns}
    mc = {n: Measure(cpu[n]) for n in ns}
    mp = {n: Measure(proof[n]) for n in ns}
    ratio = mw[hi].median / mw[lo].median
    cpu_ratio = mc[hi].median / mc[lo].median
    proof_ratio = mp[hi].median / mp[lo].median
    _plot(ns, mw, mc, mp, quick)
    detail = "; ".join(
        f"{n:,} blocks: commit {mw[n].median * 1e3:.2f} ms ±{mw[n].spread:.0%} "
        f"(CPU {mc[n].median * 1e3:.2f} ms), proof {mp[n].median * 1e3:.3f} ms"
        for n in ns
    )
    return Row(
        "G8", f"growth {lo:,} → {hi:,} blocks: per-commit time at {hi:,} / at {lo:,}",
        f"{mw[hi].median * 1e3:.2f} ms/commit at {hi:,}",
        f"{mw[lo].median * 1e3:.2f} ms/commit at {lo:,} (itself)",
        ratio, "≤ 1.2×; proof length = ⌈log2 n⌉ + block terms", ratio <= 1.2,
        note=(
            f"{detail}; CPU per commit ratio {cpu_ratio:.2f}×, proof time ratio "
            f"{proof_ratio:.2f}×; {lengths[hi]}; {disk_note()}; plot bench/{PNG.name}"
        ),
    )


def _plot(ns: list[int], wall: dict, cpu: dict, proof: dict, quick: bool) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("G8: matplotlib missing (pip install -e .[bench]): no plot")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)

    def series(ax, measures, label, marker):
        ys = [measures[n].median * 1e3 for n in ns]
        lows = [y - min(measures[n].values) * 1e3 for n, y in zip(ns, ys, strict=True)]
        highs = [max(measures[n].values) * 1e3 - y for n, y in zip(ns, ys, strict=True)]
        ax.errorbar(ns, ys, yerr=[lows, highs], marker=marker, capsize=4, label=label)

    series(left, wall, "wall (durable: 2 fsyncs)", "o")
    series(left, cpu, "CPU of this process", "s")
    left.set_title("per-commit time (1 tiny document per transaction)")
    right.set_title("revision + proof to the tip (get_revision)")
    series(right, proof, "median latency", "o")
    right.axhline(0.3, color="grey", linestyle="--", label="G7 target 0.3 ms")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("ledger size (blocks)")
        ax.set_ylabel("ms")
        ax.set_ylim(bottom=0)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"G8 growth ({'quick' if quick else 'full'} run: medians, bars = min..max of rounds)")
    fig.savefig(PNG, dpi=100)
    plt.close(fig)
