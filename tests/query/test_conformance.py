"""The PartiQL conformance suite's evaluation tests (permissive "coerce" mode).

Data: ../shared/conformance/partiql-tests (Apache-2.0), skipped when absent.  Tables of
each test's environment are given to the engine as global bindings.  Features outside
QLDB's dialect are filtered out by ``NOT_APPLICABLE``; tests where this engine
deliberately differs are listed in ``SKIP`` by name, each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from fake import FakeContext

from ledger.errors import Error, NotSupportedError
from ledger.query import ast, execute, parse
from ledger.query.values import MISSING, Bag, Struct, group_key, kind

DATA = Path(__file__).resolve().parents[3] / "shared/conformance/partiql-tests/partiql-tests-data"

# Statements using features QLDB's dialect does not have (see docs/QLDB-DIALECT.md).
NOT_APPLICABLE = re.compile(
    r"\b(DATE|TIME|TIMESTAMP)\s+'|INTERVAL|TIME WITH|COLL_|OVERLAPS|OVERLAY|POSITION"
    r"|BIT_LENGTH|OCTET_LENGTH|\$date|\$time|PIVOT|UNION|INTERSECT|EXCEPT|GROUP AS|OUTER",
    re.IGNORECASE,
)

_CASE = "names are case-sensitive in QLDB; PartiQL folds unquoted identifiers"
_CAST_ERR = "an impossible CAST is a DataError here (QLDB's strict typing), not MISSING"
_DECIMAL = "Ion decimals keep their full precision; PartiQL rounds to 34 digits"
_DUP = "computed structs keep one value per field name"
_KEY = "a struct key that is not a string is a DataError here, not a dropped field"
_FROM_ABSENT = "`FROM NULL`/`FROM MISSING` is an error here (a table named Missing needs quotes)"
_UNDEFINED = "an undefined variable evaluates to MISSING (no static analysis)"
_ROW = "row/table value constructors are not in QLDB's dialect"
_OFFSET = "LIMIT/OFFSET must be non-negative integers (an error, not ignored)"

SKIP: dict[str, str] = {
    "identifierCaseMismatch": _CASE,
    "dotted path expression with unquoted identifiers accesses field UNAMBIGUOUS_FIELD (uppercase)": _CASE,
    "path expression with table alias in lowercase": _CASE,
    "path expression with table alias in uppercase": _CASE,
    "subscript with variable in lowercase": _CASE,
    "qualified GROUP BY, SELECT and ORDER BY with mixed case": _CASE,
    "decimalRoundDown": _DECIMAL,
    "decimalRoundUp": _DECIMAL,
    "subtractionOutOfAllowedPrecision": "1e100 is a float here (QLDB), a decimal in PartiQL",
    "rowValueConstructor": _ROW,
    "tableValueConstructor": _ROW,
    "inPredicateWithTableConstructor": _ROW,
    "notInPredicateWithTableConstructor": _ROW,
    "equalTuplesDifferentTypesDifferentOrderTrue": _DUP,
    "equalTuplesDifferentTypesDifferentOrderWithNullMissingTrue": _DUP,
    "cardinality valid cases{param:\"{'a': 1, 'a': 2}\",result:2}": _DUP,
    "cardinality valid cases{param:\"[[], [1,2,3,4,[5,6], ()], ({'a': 1, 'b': 2})]\",result:3}": "`()` (an empty S-expression) is not in QLDB's dialect",
    'exists valid cases{param:"{a: 1}",result:true}': _KEY,
    'exists valid cases{param:"{a: null}",result:true}': _KEY,
    "tuple constructor and mistyped attribute name": _KEY,
    "data type mismatch in logical expression": _KEY,
    "single source FROM with absent value missing": _FROM_ABSENT,
    "single source FROM with absent value missing and AT clause": _FROM_ABSENT,
    "single source FROM with absent value null": _FROM_ABSENT,
    "single source FROM with absent value null and AT clause": _FROM_ABSENT,
    "undefinedUnqualifiedVariableWithUndefinedVariableBehaviorMissing": _UNDEFINED,
    "undefinedUnqualifiedVariableIsNullExprWithUndefinedVariableBehaviorMissing": _UNDEFINED,
    "undefinedUnqualifiedVariableIsMissingExprWithUndefinedVariableBehaviorMissing": _UNDEFINED,
    "inner select evaluating to collection with more than one element": "a scalar subquery with several rows is a DataError",
    "select variable star with non tuples": "`x.*` of a scalar gives nothing, not {_1: x}",
    "tuple navigation with array notation without explicit CAST to string": "`s[expr]` looks up a computed string key",
    "MOD(NULL, 'some string')": "NULL wins over a type mismatch in MOD",
    "MOD('some string', NULL)": "NULL wins over a type mismatch in MOD",
    "substring invalid quantity": "a negative SUBSTRING length is a DataError",
    "offset 1-2": _OFFSET,
    "offset <decimal>>": _OFFSET,
    "offset <str>": _OFFSET,
    "PG_JOIN_09": _DUP,
    "nested-parenthesized-joins-auto-alias": "parenthesized joins in FROM are not parsed",
    "selectCorrelatedLeftJoin": "LEFT CROSS JOIN is not parsed",
    "joinWithShadowedGlobal": "a FROM path on a variable is never a global",
    "selectDistinctExpression": '"1" is a quoted identifier, not a string',
    "should order data types by the specifications (NULLS LAST default for asc)": "PartiQL DATE/TIME values ($date/$time structs) are not Ion timestamps",
    "should order data types by the specifications (NULLS FIRST default for desc)": "PartiQL DATE/TIME values ($date/$time structs) are not Ion timestamps",
    "should order data types by the specifications (nulls should be first due to nulls spec)": "PartiQL DATE/TIME values ($date/$time structs) are not Ion timestamps",
    "should order data types by the specifications (nulls should be last due to nulls spec)": "PartiQL DATE/TIME values ($date/$time structs) are not Ion timestamps",
    "structs should be ordered by data types (DESC) (nulls first as default for desc)": "the suite orders [] and {} inside structs inconsistently between ASC and DESC",
}
for _kind in ("CLOB", "SEXP", "TIMESTAMP", "BLOB", "BAG", "LIST", "STRUCT", "STRING"):
    SKIP[f"cast to int invalid target type ({_kind})"] = _CAST_ERR
SKIP_PREFIXES = {
    "cast to int invalid": _CAST_ERR,
    "cast to MISSING valid cases": "CAST(x AS MISSING/NULL) is allowed",
    "cast to NULL valid cases": "CAST(x AS MISSING/NULL) is allowed",
    "EXTRACT(": "TIME values are not in QLDB's dialect",
    "explicit timestamp": "TIMESTAMP literals are not in QLDB's dialect (use `...` Ion)",
    "timestampz": "TIMESTAMP literals are not in QLDB's dialect (use `...` Ion)",
    "1.0000 is DECIMAL(": "IS DECIMAL(p,s) does not check precision and scale",
    "123.456 is DECIMAL(": "IS DECIMAL(p,s) does not check precision and scale",
}


def _text(symbols: Any) -> list[str]:
    return [getattr(s, "text", s) for s in (symbols or ())]


def _is_env(value: Any) -> bool:
    return "envs" in _text(getattr(value, "ion_annotations", ()))


def _walk(value: Any, env: Any, where: str) -> Iterator[tuple[str, Any, Any]]:
    if hasattr(value, "get") and "statement" in value:
        yield where, value, env
    elif isinstance(value, list):
        env = next((v for v in value if _is_env(v)), env)
        for item in value:
            yield from _walk(item, env, where)
    elif hasattr(value, "values") and not _is_env(value):
        for item in value.values():
            yield from _walk(item, env, where)


def _cases() -> Iterator[Any]:
    if not DATA.is_dir():
        return
    for path in sorted(DATA.glob("eval/**/*.ion")):
        if "experimental" in path.parts:
            continue
        where = str(path.relative_to(DATA))
        data = simpleion.loads(path.read_text(), single_value=False)
        env: Any = next((d for d in data if _is_env(d)), {})
        for file, case, case_env in _walk(data, env, where):
            yield from _assertions(file, case, case_env)


def _assertions(file: str, case: Any, env: Any) -> Iterator[Any]:
    statement = str(case["statement"])
    if NOT_APPLICABLE.search(statement):
        return
    asserts = case["assert"] if isinstance(case["assert"], list) else [case["assert"]]
    for check in asserts:
        modes = check["evalMode"] if isinstance(check["evalMode"], list) else [check["evalMode"]]
        if "EvalModeCoerce" not in _text(modes):
            continue
        name = str(case["name"])
        marks = _skip_marks(name)
        yield pytest.param(
            statement, case.get("env", env), check, id=f"{file}::{name}", marks=marks
        )


def _skip_marks(name: str) -> list[Any]:
    reason = SKIP.get(name) or next(
        (r for prefix, r in SKIP_PREFIXES.items() if name.startswith(prefix)), None
    )
    return [pytest.mark.skip(reason=reason)] if reason else []


def _normal(value: Any) -> Any:
    """Results and expectations in one shape: bags as Bag, structs as Struct."""
    annotations = _text(getattr(value, "ion_annotations", ()))
    if "$missing" in annotations:
        return MISSING
    if kind(value) == "bag" or isinstance(value, Bag):
        return Bag(_normal(v) for v in value)
    if kind(value) == "struct":
        return Struct((str(k), _normal(v)) for k, v in value.items())
    if kind(value) in ("list", "sexp"):
        return (
            [_normal(v) for v in value]
            if kind(value) == "list"
            else tuple(_normal(v) for v in value)
        )
    return value


def _same(a: Any, b: Any) -> bool:
    if kind(a) != kind(b):
        return False
    if kind(a) == "bag":
        return sorted(map(group_key, a)) == sorted(map(group_key, b))
    if kind(a) == "list":
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return group_key(a) == group_key(b)


def _result(statement: str, rows: list[Any]) -> Any:
    node = parse(statement)
    if isinstance(node, ast.Select):
        return list(rows) if node.order_by else Bag(rows)
    return rows[0] if len(rows) == 1 else Bag(rows)


@pytest.mark.parametrize(("statement", "env", "check"), list(_cases()))
def test_partiql_conformance(statement: str, env: Any, check: Any) -> None:
    bindings = {str(k): _normal(v) for k, v in (env or {}).items()}
    expected_ok = str(getattr(check["result"], "text", check["result"])) == "EvaluationSuccess"
    try:
        rows = execute(FakeContext(), statement, bindings=bindings)
    except NotSupportedError:
        pytest.skip("not supported")
    except Error:
        assert not expected_ok, "raised, but the suite expects a result"
        return
    assert expected_ok, "returned a result, but the suite expects an error"
    got, want = _normal(_result(statement, rows)), _normal(check["output"])
    if kind(want) == "bag" and kind(got) != "bag" and not isinstance(parse(statement), ast.Select):
        got = Bag(rows) if len(rows) != 1 or kind(_normal(rows[0])) != "bag" else _normal(rows[0])
    assert _same(got, want), f"got {got!r}, want {want!r}"
