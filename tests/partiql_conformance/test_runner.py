"""The conformance runner itself, on a small suite written here (no ../shared needed):
loading (namespaces, envs, equivalence classes, modes), judging, skips, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import __main__ as cli
from .compare import same
from .run import FAIL, PASS, SKIP, run_all
from .suite import PERMISSIVE, STRICT, load

SUITE = """
envs::{ nums: [1, 2, 3] }
{ name: "sum", statement: "COLL_SUM(nums)",
  assert: { result: EvaluationSuccess, evalMode: [EvalModeCoerce, EvalModeError], output: 6 } }
{ name: "type error", statement: "1 + 'a'",
  assert: [ { result: EvaluationSuccess, evalMode: EvalModeCoerce, output: $missing::null },
            { result: EvaluationFail, evalMode: EvalModeError } ] }
nested::[
  envs::{ nums: [10] },
  { name: "inner env", statement: "SELECT VALUE n FROM nums AS n",
    assert: { result: EvaluationSuccess, evalMode: EvalModeCoerce, output: $bag::[10] } },
  equiv_class::{ id: one, statements: ["1", "2 - 1", "CAST('1' AS INT)"] },
  { name: "equivalent", statement: one,
    assert: { result: EvaluationSuccess, evalMode: EvalModeCoerce, output: 1 } },
]
{ name: "wrong answer", statement: "1 + 1",
  assert: { result: EvaluationSuccess, evalMode: EvalModeCoerce, output: 3 } }
{ name: "pivot", statement: "PIVOT v AT k FROM t",
  assert: { result: EvaluationSuccess, evalMode: EvalModeCoerce, output: $bag::[] } }
"""

SYNTAX = """
{ name: "parses", statement: "SELECT a FROM t", assert: { result: SyntaxSuccess } }
{ name: "refused", statement: "SELECT FROM", assert: { result: SyntaxFail } }
{ name: "static", statement: "UPPER(1)", assert: { result: StaticAnalysisFail } }
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "small.ion").write_text(SUITE)
    (tmp_path / "success").mkdir()
    (tmp_path / "success" / "syntax.ion").write_text(SYNTAX)
    return tmp_path


def _outcomes(suite: Path) -> dict[str, str]:
    return {r.case.id: r.outcome for r in run_all(load([suite]))}


def test_cases_per_assertion_and_mode(suite: Path) -> None:
    cases = load([suite / "eval"])
    modes = [(c.name, c.mode) for c in cases]
    assert ("sum", PERMISSIVE) in modes and ("sum", STRICT) in modes
    assert ("type error", STRICT) in modes
    inner = next(c for c in cases if c.name == "inner env")
    assert inner.file == "eval/small.ion"
    assert list(inner.env) == ["nums"] and list(inner.env["nums"]) == [10]
    assert next(c for c in cases if c.name == "equivalent").statements == (
        "1",
        "2 - 1",
        "CAST('1' AS INT)",
    )


def test_outcomes(suite: Path) -> None:
    got = _outcomes(suite)
    assert got["eval/small.ion::sum [strict]"] == PASS
    assert got["eval/small.ion::type error [permissive]"] == PASS
    assert got["eval/small.ion::type error [strict]"] == PASS
    assert got["eval/small.ion::inner env [permissive]"] == PASS
    assert got["eval/small.ion::equivalent [permissive]"] == PASS
    assert got["eval/small.ion::wrong answer [permissive]"] == FAIL
    assert got["eval/small.ion::pivot [permissive]"] == SKIP
    assert got["success/syntax.ion::parses"] == PASS
    assert got["success/syntax.ion::refused"] == PASS
    assert got["success/syntax.ion::static"] == PASS


def test_failure_says_what_was_wrong(suite: Path) -> None:
    result = next(r for r in run_all(load([suite])) if r.case.name == "wrong answer")
    assert result.detail == "got 2, want 3"


def test_comparison_is_partiql_equality_with_types() -> None:
    from amazon.ion import simpleion

    ion = simpleion.loads
    assert same(ion("$bag::[1, {a: 2, b: 3}]"), ion("$bag::[{b: 3, a: 2}, 1]"))
    assert not same(ion("[1, 2]"), ion("[2, 1]"))
    assert not same(ion("1"), ion("1.0"))
    assert same(ion("1.0"), ion("1.00"))
    assert same(ion('"a"'), ion("a"))  # the suite writes strings as symbols
    assert not same(ion("{a: 1, a: 2}"), ion("{a: 1}"))
    assert not same(ion("null"), ion("$missing::null"))


def test_cli_text_json_and_markdown(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(suite)]) == 0
    text = capsys.readouterr().out
    assert "FAIL eval/small.ion::wrong answer [permissive]\n     got 2, want 3" in text
    assert "SKIP eval/small.ion::pivot [permissive]" in text

    cli.main([str(suite), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (report["total"], report["passed"], report["failed"], report["skipped"]) == (
        11,
        9,
        1,
        1,
    )
    assert {r["outcome"] for r in report["results"]} == {PASS, FAIL, SKIP}

    cli.main([str(suite), "--markdown"])
    table = capsys.readouterr().out.splitlines()
    assert table[0] == (
        "| directory | kind | passed | failed | differs | n/a | pass rate | of applicable |"
    )
    assert "| `eval` | eval permissive | 4 | 1 | 0 | 1 | 80.0% | 80.0% |" in table
    assert "| `success` | syntax | 2 | 0 | 0 | 0 | 100.0% | 100.0% |" in table
    assert "| **total** | **static** | 1 | 0 | 0 | 0 | 100.0% | 100.0% |" in table


def test_cli_refuses_a_missing_directory(tmp_path: Path) -> None:
    assert cli.main([str(tmp_path / "nope")]) == 2
