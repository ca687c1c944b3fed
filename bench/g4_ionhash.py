"""G4: Ion hash of the benchmark documents against the ``ionhash`` reference."""

from __future__ import annotations

from bench.cores import both
from bench.ionhash_bench import as_row
from bench.ionhash_bench import run as _run
from bench.stats import Row


def run_one(quick: bool = False) -> Row:
    return as_row(_run(quick))


def run(quick: bool = False) -> list[Row]:
    return both(__name__, run_one, quick)
