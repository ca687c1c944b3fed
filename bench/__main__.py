"""``python -m bench [--quick]``: run every scenario, print the table, write RESULTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import platform
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

from bench.stats import Row

SCENARIOS = [
    "bench.g1_commits",
    "bench.g2_concurrent",
    "bench.g3_bulk",
    "bench.g4_ionhash",
    "bench.g5_lookup",
    "bench.g6_verify",
    "bench.g7_proof",
    "bench.g8_growth",
    "bench.g9_space",
    "bench.g10_server",
    "bench.g11_cold",
    "bench.g12_load",
    "bench.d1_driver",
    "bench.g13_stream",
    "bench.g14_postgres",
]
RESULTS = Path(__file__).with_name("RESULTS.md")


def versions() -> str:
    names = ["amazon-ion", "lmdb", "lark", "ledgerdb"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    found.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(found)


def table(rows: list[Row]) -> str:
    lines = [
        "| id | scenario | ledger | peer | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        met = "—" if r.met is None else ("yes" if r.met else "no")
        lines.append(f"| {r.id} | {r.scenario} | {r.ours} | {r.peer} | {ratio} | {r.target} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (under two minutes)")
    parser.add_argument("--only", nargs="*", help="scenario ids to run, e.g. G1 G4")
    args = parser.parse_args(argv)
    rows = []
    for name in SCENARIOS:
        module = importlib.import_module(name)
        ident = name.split(".")[-1].split("_")[0].upper()
        if args.only and ident not in args.only:
            continue
        print(f"running {ident} ...", file=sys.stderr, flush=True)
        result = module.run(quick=args.quick)
        # A scenario gives one row, or several (e.g. one per core or per storage backend).
        rows.extend(result if isinstance(result, list) else [result])
    text = table(rows)
    print(text)
    header = (
        f"# Benchmark results\n\n"
        f"Run: `python -m bench{' --quick' if args.quick else ''}` on {dt.date.today().isoformat()}, "
        f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{versions()}.\nEvery ratio compares with the peer measured in the same run "
        f"(docs/benchmarks.md has the rules).\n\n"
    )
    notes = "\n".join(f"- {r.id}: {r.note}" for r in rows if r.note)
    RESULTS.write_text(header + text + "\n" + (f"\n{notes}\n" if notes else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
