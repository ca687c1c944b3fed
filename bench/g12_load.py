"""G12: ``ledger load`` of JSON Lines, against G3's bulk-load rate in the same run.

The command line runs as users run it (a new process, start-up included) on a file
of the benchmark's documents; the peer is G3's method in this process (``INSERT INTO
Vehicle ?`` with lists of 40 on a fresh ledger).  Target: at least 0.8x G3's rate."""

from __future__ import annotations

import json
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import ledger
from bench.docs import documents
from bench.fixtures import PER_TX, fresh, ledger_load, log
from bench.g11_cold import ledger_command
from bench.stats import Measure, Row

TARGET = 0.8  # of G3's rate


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # two decimal places: the JSON number reads back as that Decimal
    return str(value)


def write_jsonl(docs: list[dict[str, Any]]) -> Path:
    path = fresh("g12-").with_suffix(".jsonl")
    with path.open("w", encoding="utf-8") as out:
        for doc in docs:
            out.write(json.dumps(doc, default=_json_value) + "\n")
    return path


def _cli_run(data: Path, n: int) -> float:
    target = fresh("g12-")
    start = time.perf_counter()
    done = subprocess.run(
        [
            *ledger_command(),
            "load",
            str(target),
            "Vehicle",
            str(data),
            "--create",
            "--create-table",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or f"Loaded {n:,} documents" not in done.stdout:
        raise RuntimeError(f"ledger load failed: {done.stdout}{done.stderr}")
    return n / elapsed


def _g3_run(docs: list[dict[str, Any]]) -> float:
    with ledger.connect(fresh("g12-g3-")) as db:
        db.execute("CREATE TABLE Vehicle")
        start = time.perf_counter()
        ledger_load(db, docs, PER_TX)
        return len(docs) / (time.perf_counter() - start)


def run(quick: bool = False) -> Row:
    n, repeat = (10_000, 3) if quick else (100_000, 5)
    docs = documents(n)
    data = write_jsonl(docs)
    ours, peer = [], []
    for k in range(repeat):
        if k % 2:  # alternate which goes first: the machine's load drifts
            peer.append(_g3_run(docs))
            ours.append(_cli_run(data, n))
        else:
            ours.append(_cli_run(data, n))
            peer.append(_g3_run(docs))
        log(
            f"G12 {k + 1}/{repeat}: ledger load {ours[-1]:,.0f} docs/s, G3 method {peer[-1]:,.0f} docs/s"
        )
    o, p = Measure(ours), Measure(peer)
    # the median of the paired ratios: each pair ran back to back, under the same load
    ratio = Measure([a / b for a, b in zip(ours, peer, strict=True)]).median
    return Row(
        "G12",
        f"`ledger load` {n:,} documents from JSON Lines ({data.stat().st_size / n:.0f} bytes a line), 40 per transaction",
        f"{o.median:,.0f} docs/s ±{o.spread:.0%}",
        f"{p.median:,.0f} docs/s ±{p.spread:.0%} (G3 in-process)",
        ratio,
        f"≥ {TARGET}× G3",
        ratio >= TARGET,
        note="ledger load includes process start, JSON parsing and the summary; the ratio is the "
        "median of the back-to-back pairs' ratios; "
        + "per repetition: "
        + ", ".join(f"{a / b:.2f}" for a, b in zip(ours, peer, strict=True)),
    )
