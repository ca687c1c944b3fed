"""The PartiQL conformance suite, through its runner (tests/partiql_conformance).

Data: ../shared/conformance/partiql-tests (Apache-2.0), skipped when absent.  The
runner runs every case once per module (both typing modes, the syntax and static
suites); these tests hold it to the issue's targets and to the baseline: what the
skip list does not name passes, unless ``baseline.KNOWN_FAILURES`` lists it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from partiql_conformance import FAIL, Result, load, run_all, summarize
from partiql_conformance.baseline import KNOWN_FAILURES
from partiql_conformance.report import Summary

DATA = "conformance/partiql-tests/partiql-tests-data"

# of the applicable cases (in QLDB's dialect), deliberate differences counted as failures
EVAL_TARGET = 0.90  # evaluation, in each mode
SYNTAX_TARGET = 0.95


@functools.cache
def _results(data: Path) -> tuple[Result, ...]:
    return tuple(run_all(load([data])))


@pytest.fixture
def results(shared: Path) -> tuple[Result, ...]:
    return _results(shared / DATA)


@pytest.fixture
def summary(results: tuple[Result, ...]) -> Summary:
    return summarize(results)


@pytest.mark.parametrize("mode", ["permissive", "strict"])
def test_evaluation_target(summary: Summary, mode: str) -> None:
    tally = summary.kinds[f"eval {mode}"]
    assert tally.ran > 2000, "the suite's evaluation cases went missing"
    got = tally.applicable_rate
    assert got >= EVAL_TARGET, f"{tally.passed}/{tally.ran + tally.differs} {mode} cases pass"


def test_syntax_target(summary: Summary) -> None:
    tally = summary.kinds["syntax"]
    assert tally.ran > 300, "the suite's syntax cases went missing"
    got = tally.applicable_rate
    assert got >= SYNTAX_TARGET, f"{tally.passed}/{tally.ran + tally.differs} syntax cases pass"


def test_nothing_regresses(results: tuple[Result, ...]) -> None:
    regressed = [r for r in results if r.outcome == FAIL and r.case.id not in KNOWN_FAILURES]
    assert not regressed, "\n".join(f"{r.case.id}\n    {r.detail}" for r in regressed)


def test_known_failures_still_fail(results: tuple[Result, ...]) -> None:
    outcome = {r.case.id: r.outcome for r in results}
    stale = [case_id for case_id in KNOWN_FAILURES if outcome.get(case_id) != FAIL]
    assert not stale, f"no longer failing, take them off baseline.KNOWN_FAILURES: {stale}"


def test_every_skip_by_name_is_used(results: tuple[Result, ...]) -> None:
    from partiql_conformance.skips import BY_NAME

    names = {r.case.name for r in results} | {f"{r.case.name} [{r.case.mode}]" for r in results}
    unused = [name for name in BY_NAME if name not in names]
    assert not unused, f"skip entries that match no case: {unused}"


def test_docs_show_the_current_table(results: tuple[Result, ...]) -> None:
    """docs/dialect.md carries the runner's --markdown table; regenerate it when this fails:
    python -m tests.partiql_conformance ../shared/conformance/partiql-tests/partiql-tests-data
    --markdown"""
    from partiql_conformance.report import markdown

    docs = (Path(__file__).resolve().parents[2] / "docs" / "dialect.md").read_text("utf-8")
    start, end = "<!-- conformance table: start -->\n", "\n<!-- conformance table: end -->"
    shown = docs[docs.index(start) + len(start) : docs.index(end)]
    assert shown == markdown(summarize(results, depth=2))
