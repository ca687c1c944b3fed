"""D1: an app through ``ledger.qldb`` (pyqldb's API, all-IonPy values) against the same
transactions through the native API (``execute_lambda``, MAY_BE_BARE values), one run.

Each transaction is what a pyqldb app does most: look a document up by an indexed field
and update it (read-modify-write, durable commit).  A second row reads 100 documents
per statement, where the value model's decoding shows most.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import ledger
from bench.stats import Measure, Row, rate
from ledger.qldb import QldbDriver

DOCS = 200


def _setup(path: Path) -> None:
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("CREATE INDEX ON Vehicle (VIN)")
        for start in range(0, DOCS, 40):
            with db.transaction() as tx:
                for i in range(start, start + 40):
                    tx.execute(
                        "INSERT INTO Vehicle ?",
                        {"VIN": f"VIN{i:05}", "Make": "Audi", "Year": 2011, "Miles": 0,
                         "Owner": {"Name": "Ann", "Since": ledger.ion.loads("2019-06-05T")}},
                    )  # fmt: skip


def _update(execute: Any, i: int) -> None:
    (car,) = execute("SELECT * FROM Vehicle WHERE VIN = ?", f"VIN{i % DOCS:05}")
    execute("UPDATE Vehicle AS v SET v.Miles = ? WHERE v.VIN = ?", car["Miles"] + 1, car["VIN"])


def _measure(path: Path, count: int, repeat: int) -> tuple[Measure, Measure, Measure, Measure]:
    db = ledger.connect(path)
    driver = QldbDriver(db)

    def native_updates() -> int:
        for i in range(count):
            db.execute_lambda(lambda tx, i=i: _update(tx.execute, i))
        return count

    def driver_updates() -> int:
        for i in range(count):
            driver.execute_lambda(lambda ex, i=i: _update(ex.execute_statement, i))
        return count

    scan = "SELECT * FROM Vehicle WHERE VIN < 'VIN00100'"

    def native_reads() -> int:
        for _ in range(count):
            assert len(list(db.execute(scan))) == 100
        return count

    def driver_reads() -> int:
        for _ in range(count):
            assert len(list(driver.execute_lambda(lambda ex: ex.execute_statement(scan)))) == 100
        return count

    try:
        return (
            rate(native_updates, repeat),
            rate(driver_updates, repeat),
            rate(native_reads, repeat),
            rate(driver_reads, repeat),
        )
    finally:
        driver.close()
        db.close()


def run(quick: bool = False) -> list[Row]:
    count, repeat = (50, 3) if quick else (300, 5)
    with tempfile.TemporaryDirectory(prefix="bench-d1-") as tmp:
        path = Path(tmp) / "d1.ledger"
        _setup(path)
        native_w, driver_w, native_r, driver_r = _measure(path, count, repeat)
    return [
        _row(
            "D1", "read-modify-write transactions/s, ledger.qldb vs native API", driver_w, native_w
        ),
        _row(
            "D1r", "100-document reads/s, ledger.qldb (IonPy values) vs native", driver_r, native_r
        ),
    ]


def _row(ident: str, scenario: str, ours: Measure, peer: Measure) -> Row:
    ratio = ours.median / peer.median
    return Row(
        ident,
        scenario,
        f"{ours.median:,.0f}/s ±{ours.spread:.0%}",
        f"{peer.median:,.0f}/s ±{peer.spread:.0%} (native API)",
        ratio,
        "≥ 0.8× native",
        ratio >= 0.8,
    )
