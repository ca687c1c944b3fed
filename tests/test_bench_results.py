"""``python -m bench --only …`` updates RESULTS.md in place: the scenarios run replace
their own rows and notes, every other row stays, and the header says which rows came
from which run (a partial run once overwrote the whole table with its one row)."""

from __future__ import annotations

from bench.__main__ import merged, written
from bench.stats import Row

G1 = [Row("G1", "commits [compiled core]", "2/s", "4/s", 0.5, "≥ 0.8×", False, "[compiled core] n"),
      Row("G1", "commits [pure-Python core]", "1/s", "4/s", 0.25, "≥ 0.8×", False)]
G9 = [Row("G9", "space", "600 B", "440 B", 1.36, "≤ 2.5×", True, "blocks 267")]


def _table(text: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith("| G")]


def test_a_partial_run_replaces_only_its_own_rows_and_notes() -> None:
    old = written(G1 + G9, "`python -m bench` on 2026-12-01")
    fresh = [Row("G1", "commits [compiled core]", "3/s", "4/s", 0.75, "≥ 0.8×", False, "[compiled core] m")]
    new = merged(old, fresh, "`python -m bench --only G1` on 2026-12-06")
    assert _table(new) == [_table(old)[0].replace("2/s", "3/s").replace("0.50×", "0.75×"),
                           _table(old)[2]]
    assert "- G1: [compiled core] m" in new and "- G1: [compiled core] n" not in new
    assert "- G9: blocks 267" in new
    assert "Run: `python -m bench` on 2026-12-01" in new
    assert "Rows G1: `python -m bench --only G1` on 2026-12-06" in new


def test_a_new_scenario_goes_after_the_others_and_a_later_run_takes_over_its_line() -> None:
    old = written(G1, "`python -m bench` on 2026-12-01")
    once = merged(old, G1 + G9, "`python -m bench --only G1 G9` on 2026-12-02")
    assert _table(once) == _table(written(G1 + G9, "x"))
    twice = merged(once, G1, "`python -m bench --only G1` on 2026-12-03")
    assert "Rows G9: `python -m bench --only G1 G9` on 2026-12-02" in twice
    assert "Rows G1: `python -m bench --only G1` on 2026-12-03" in twice
    assert twice.count("Rows ") == 2
