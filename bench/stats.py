"""Repetitions, medians and spread, and the side-by-side row."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Measure:
    values: list[float]  # one figure per repetition (e.g. operations per second)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> float:
        """Half the range as a fraction of the median (± x%)."""
        if len(self.values) < 2 or not self.median:
            return 0.0
        return (max(self.values) - min(self.values)) / 2 / self.median


def rate(fn: Callable[[], int], repeat: int) -> Measure:
    """Operations per second of ``fn`` (which returns how many it did), ``repeat`` times."""
    values = []
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        values.append(count / (time.perf_counter() - start))
    return Measure(values)


def latency(fn: Callable[[], int], repeat: int) -> Measure:
    """Seconds per operation of ``fn`` (which returns how many it did)."""
    values = []
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        values.append((time.perf_counter() - start) / count)
    return Measure(values)


@dataclass
class Row:
    id: str
    scenario: str
    ours: str
    peer: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""
