"""G11: cold start of the command line, one process per run.

``ledger --version`` against ``python -c pass`` (the interpreter's own start), and
``ledger execute L "SELECT ..."`` on a small ledger against a one-shot SQLite query
(the ``sqlite3`` command line when installed, else ``python -c`` with sqlite3), all
interleaved in the same run.  Targets: --version ≤ 0.15 s, execute ≤ 0.35 s."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import ledger
from bench.fixtures import fresh, log, sqlite_connect
from bench.stats import Measure, Row

VERSION_TARGET = 0.15  # seconds
EXECUTE_TARGET = 0.35
QUERY = "SELECT v.VIN FROM Vehicle AS v WHERE v.VIN = '1N4AL11D700000007'"
SQL = "SELECT VIN FROM Vehicle WHERE VIN = '1N4AL11D700000007'"


def ledger_command() -> list[str]:
    """The console script users run, or ``python -m ledger`` without one."""
    script = Path(sys.executable).with_name("ledger")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledger"]


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {done.stderr.strip()}")
    return elapsed


def _fixtures() -> tuple[Path, Path]:
    path = fresh("g11-")
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("INSERT INTO Vehicle ?", [{"VIN": f"1N4AL11D7{i:08d}"} for i in range(20)])
    db_file = fresh("g11-").with_suffix(".db")
    conn = sqlite_connect(db_file)
    conn.execute("CREATE TABLE Vehicle (VIN TEXT)")
    conn.executemany("INSERT INTO Vehicle VALUES (?)", [(f"1N4AL11D7{i:08d}",) for i in range(20)])
    conn.commit()
    conn.close()
    return path, db_file


def _sqlite_one_shot(db_file: Path) -> tuple[list[str], str]:
    cli = shutil.which("sqlite3")
    if cli:
        return [cli, str(db_file), SQL], "sqlite3 CLI"
    code = f"import sqlite3; print(sqlite3.connect({str(db_file)!r}).execute({SQL!r}).fetchall())"
    return [sys.executable, "-c", code], "python sqlite3 one-shot"


def run(quick: bool = False) -> list[Row]:
    repeat = 5 if quick else 15
    path, db_file = _fixtures()
    command = ledger_command()
    sqlite_argv, sqlite_name = _sqlite_one_shot(db_file)
    figures: dict[str, list[float]] = {"version": [], "pass": [], "execute": [], "sqlite": []}
    argvs = {
        "version": [*command, "--version"],
        "pass": [sys.executable, "-c", "pass"],
        "execute": [*command, "execute", str(path), QUERY],
        "sqlite": sqlite_argv,
    }
    for name in argvs:  # warm the file cache once, unmeasured
        _seconds(argvs[name])
    for _ in range(repeat):
        for name, argv in argvs.items():
            figures[name].append(_seconds(argv))
    m = {name: Measure(values) for name, values in figures.items()}
    log(
        f"G11: --version {m['version'].median:.3f} s (python -c pass {m['pass'].median:.3f} s), "
        f"execute {m['execute'].median:.3f} s ({sqlite_name} {m['sqlite'].median:.3f} s)"
    )
    return [
        _row(
            "G11",
            "cold start: `ledger --version`",
            m["version"],
            m["pass"],
            "python -c pass",
            VERSION_TARGET,
        ),
        _row(
            "G11",
            'cold start: `ledger execute L "SELECT ..."` (20 documents)',
            m["execute"],
            m["sqlite"],
            sqlite_name,
            EXECUTE_TARGET,
        ),
    ]


def _row(
    ident: str, scenario: str, ours: Measure, peer: Measure, peer_name: str, target: float
) -> Row:
    return Row(
        ident,
        scenario,
        f"{ours.median:.3f} s ±{ours.spread:.0%}",
        f"{peer.median:.3f} s ±{peer.spread:.0%} ({peer_name})",
        ours.median / peer.median,
        f"≤ {target:.2f} s",
        ours.median <= target,
        note=f"medians of {len(ours.values)} runs each, interleaved; ratio is time (lower is better)",
    )
