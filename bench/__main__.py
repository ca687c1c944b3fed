"""``python -m bench [--quick]``: run every scenario, print the table, write RESULTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import platform
import sqlite3
import sys
from collections.abc import Callable
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
    print(table(rows))
    run = f"`python -m bench{' --quick' if args.quick else ''}"
    run += f"{' --only ' + ' '.join(args.only) if args.only else ''}` on {dt.date.today().isoformat()}"
    if args.only and RESULTS.exists():
        RESULTS.write_text(merged(RESULTS.read_text(), rows, run))
    else:
        RESULTS.write_text(written(rows, run))
    return 0


def _notes(rows: list[Row]) -> list[str]:
    return [f"- {r.id}: {r.note}" for r in rows if r.note]


def written(rows: list[Row], run: str) -> str:
    """A whole RESULTS.md for one run of every scenario."""
    header = (
        f"# Benchmark results\n\n"
        f"Run: {run}, {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {versions()}.\nEvery ratio compares with the peer "
        f"measured in the same run (docs/benchmarks.md has the rules).\n\n"
    )
    notes = "\n".join(_notes(rows))
    return header + table(rows) + "\n" + (f"\n{notes}\n" if notes else "")


def _replace(lines: list[str], fresh: list[str], ident: Callable[[str], str | None]) -> list[str]:
    """``lines`` with the lines of every id in ``fresh`` replaced by ``fresh``'s, at the
    place the first old one held (new ids go after the last line that has an id)."""
    ids = {ident(x) for x in fresh}
    out: list[str] = []
    placed: set[str | None] = set()
    last = -1
    for line in lines:
        key = ident(line)
        if key in ids:
            if key not in placed:
                out.extend(x for x in fresh if ident(x) == key)
                placed.add(key)
            last = len(out) - 1
            continue
        out.append(line)
        if key is not None:
            last = len(out) - 1
    rest = [x for x in fresh if ident(x) not in placed]
    return out[: last + 1] + rest + out[last + 1 :]


def _row_id(line: str) -> str | None:
    return line.split("|")[1].strip() if line.startswith("| ") and not line.startswith("| id ") else None


def _note_id(line: str) -> str | None:
    return line[2:].split(":", 1)[0] if line.startswith("- ") and ":" in line else None


def _without(line: str, ids: set[str]) -> str | None:
    """A header line naming re-run rows, without the rows this run measures again (None
    when none is left); other lines as they are."""
    if not line.startswith("Rows ") or ": " not in line:
        return line
    named, rest = line[5:].split(": ", 1)
    left = [x for x in named.split(", ") if x not in ids]
    return f"Rows {', '.join(left)}: {rest}" if left else None


def merged(old: str, rows: list[Row], run: str) -> str:
    """RESULTS.md with the scenarios just run replacing their rows and notes, every other
    row kept as it was, and a line saying which rows this run measured."""
    head, _, body = old.partition("\n| id |")
    table_part, _, notes_part = ("| id |" + body).partition("\n\n")
    ids = sorted({r.id for r in rows})
    kept = [x for x in (_without(y, set(ids)) for y in head.rstrip("\n").splitlines()) if x is not None]
    head = "\n".join(kept) + f"\nRows {', '.join(ids)}: {run} (the others are from the run above).\n\n"
    table_lines = _replace(table_part.splitlines(), table(rows).splitlines()[2:], _row_id)
    note_lines = _replace(notes_part.strip("\n").splitlines(), _notes(rows), _note_id)
    return head + "\n".join(table_lines) + "\n\n" + "\n".join(note_lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
