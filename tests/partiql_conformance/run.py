"""Running one case: parse, or evaluate in its mode, and judge the outcome.

A case passes when the engine does what the suite asserts: parses a SyntaxSuccess
statement, refuses a SyntaxFail one, raises for a StaticAnalysisFail statement (we have
no separate static analysis, so evaluating it in strict mode must fail), returns the
expected value for EvaluationSuccess, raises a ledger error for EvaluationFail.  Every
statement of an equivalence class must pass.  A Python exception that is not a ledger
error is a crash, which never passes.  Cases listed in ``skips`` are not run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyDict, IonPyList

from ledger.errors import Error, NotSupportedError, ParseError
from ledger.ion import dumps_text
from ledger.query import evaluate, parse
from ledger.query.values import MISSING

from . import skips
from .compare import same
from .context import SuiteContext
from .suite import (
    EVAL_FAIL,
    EVAL_SUCCESS,
    STATIC_FAIL,
    STRICT,
    SYNTAX_FAIL,
    SYNTAX_SUCCESS,
    Case,
)

PASS = "pass"
FAIL = "fail"
SKIP = "skip"

DETAIL_LIMIT = 300


@dataclass(frozen=True)
class Result:
    case: Case
    outcome: str  # pass | fail | skip
    detail: str = ""  # why it was skipped, or what went wrong
    skip_kind: str = ""  # for a skip: skips.NOT_APPLICABLE or skips.DIFFERS

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "file": self.case.file,
            "name": self.case.name,
            "category": self.case.category,
            "mode": self.case.mode,
            "outcome": self.outcome,
            "skip": self.skip_kind or None,
            "detail": self.detail,
        }


def run_case(case: Case) -> Result:
    """Run one case (unless the skip list names it) and judge it."""
    skipped = skips.classify(case)
    if skipped is not None:
        return Result(case, SKIP, skipped[1], skipped[0])
    check = _CHECKS[case.result]
    for statement in case.statements:
        try:
            problem = check(case, statement)
        except Exception as exc:  # noqa: BLE001 - a crash is a failure to report, not to raise
            problem = f"crashed: {type(exc).__name__}: {exc}"
        if problem is not None:
            prefix = f"{' '.join(statement.split())}: " if len(case.statements) > 1 else ""
            return Result(case, FAIL, _short(prefix + problem))
    return Result(case, PASS)


def run_all(cases: list[Case]) -> list[Result]:
    return [run_case(case) for case in cases]


# ---------------------------------------------------------------- checks


def _syntax_success(case: Case, statement: str) -> str | None:
    try:
        parse(statement)
    except Error as exc:
        return f"refused: {_error(exc)}"
    return None


def _syntax_fail(case: Case, statement: str) -> str | None:
    try:
        parse(statement)
    except Error:
        return None
    return "parsed, but the suite expects a syntax error"


def _static_fail(case: Case, statement: str) -> str | None:
    try:
        value = evaluate(SuiteContext(), statement, bindings=bindings(case.env), mode=STRICT)
    except Error:
        return None
    return f"returned {_show(value)}, but the suite expects an error"


def _evaluation_success(case: Case, statement: str) -> str | None:
    try:
        value = _evaluate(case, statement)
    except Error as exc:
        return f"raised {_error(exc)}"
    if same(value, case.output):
        return None
    return f"got {_show(value)}, want {_show(case.output)}"


def _evaluation_fail(case: Case, statement: str) -> str | None:
    try:
        value = _evaluate(case, statement)
    except NotSupportedError as exc:
        return f"raised {_error(exc)}, but the suite expects an evaluation error"
    except Error:
        return None
    return f"returned {_show(value)}, but the suite expects an error"


_CHECKS: dict[str, Callable[[Case, str], str | None]] = {
    SYNTAX_SUCCESS: _syntax_success,
    SYNTAX_FAIL: _syntax_fail,
    STATIC_FAIL: _static_fail,
    EVAL_SUCCESS: _evaluation_success,
    EVAL_FAIL: _evaluation_fail,
}


def _evaluate(case: Case, statement: str) -> Any:
    return evaluate(
        SuiteContext(), statement, bindings=bindings(case.env), mode=case.mode or STRICT
    )


# ---------------------------------------------------------------- values


def bindings(env: Any) -> dict[str, Any]:
    """A test's environment as global variables (``$missing::null`` becomes MISSING)."""
    if not isinstance(env, Mapping):
        return {}
    return {str(name): _value(value) for name, value in env.items()}


def _value(value: Any) -> Any:
    annotations = [str(getattr(a, "text", a)) for a in getattr(value, "ion_annotations", ())]
    if "$missing" in annotations:
        return MISSING
    if isinstance(value, IonPyDict):
        out = IonPyDict.from_value(IonType.STRUCT, {}, value.ion_annotations)
        for name, item in value.items():
            out.add_item(name, _value(item))
        return out
    if isinstance(value, IonPyList):
        return IonPyList.from_value(
            value.ion_type, [_value(v) for v in value], value.ion_annotations
        )
    return value


def _show(value: Any) -> str:
    try:
        return dumps_text(value)
    except Exception:  # noqa: BLE001 - a value we cannot print is still worth a message
        return repr(value)


def _error(exc: Exception) -> str:
    if isinstance(exc, ParseError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 3] + "..."
