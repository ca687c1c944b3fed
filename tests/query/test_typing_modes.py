"""PartiQL's two typing modes, ``evaluate``, and the PartiQL the conformance suite asked
for: COLL_ aggregates, OVERLAY/POSITION/BIT_LENGTH/OCTET_LENGTH, TUPLEUNION, GROUP AS,
repeated field names, parenthesized joins, LEFT CROSS JOIN.
"""

from __future__ import annotations

from typing import Any

import pytest
from amazon.ion import simpleion
from fake import py

from ledger.errors import DataError, ProgrammingError
from ledger.ion import dumps_text
from ledger.query import evaluate, execute


def value(ctx: Any, statement: str, mode: str = "permissive", **env: Any) -> str:
    """The statement's value in Ion text."""
    bindings = {k: simpleion.loads(v) for k, v in env.items()}
    return dumps_text(evaluate(ctx, statement, bindings=bindings, mode=mode))


# ---------------------------------------------------------------- the mode switch

# a type error, and what permissive mode makes of it
TYPE_ERRORS = {
    "1 + 'a'": "$missing::null",
    "-'a'": "$missing::null",
    "5 > 'a'": "$missing::null",
    "NOT 1": "$missing::null",
    "1 AND true": "$missing::null",
    "'a' LIKE 1": "$missing::null",
    "1 BETWEEN 'a' AND 'b'": "null",
    "UPPER(1)": "$missing::null",
    "TRIM(LEADING 1 FROM 'a')": "$missing::null",
    "COLL_SUM('not a collection')": "$missing::null",
    "COLL_SUM(['a'])": "$missing::null",
    "{'a': 1}.b": "$missing::null",
    "[1, 2][5]": "$missing::null",
    "(5)[*]": "$bag::[5]",
    "[1].*": "$bag::[[1]]",
    "SELECT VALUE v FROM 5 AS v": "$bag::[5]",
    "SELECT VALUE [i, v] FROM <<1>> AS v AT i": "$bag::[[$missing::null,1]]",
    "SELECT x.b AS b FROM [{'a': 1}] AS x": "$bag::[{}]",
    "SELECT SUM(x.a) FROM [{'a': 'text'}] AS x": "$bag::[{}]",
}


@pytest.mark.parametrize(("expr", "permissive"), TYPE_ERRORS.items())
def test_permissive_mode_makes_a_type_error_missing(ctx: Any, expr: str, permissive: str) -> None:
    assert value(ctx, expr) == permissive


@pytest.mark.parametrize("expr", TYPE_ERRORS)
def test_strict_mode_raises_for_a_type_error(ctx: Any, expr: str) -> None:
    with pytest.raises(DataError):
        value(ctx, expr, "strict")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + MISSING", "$missing::null"),  # MISSING in, MISSING out: no type error
        ("NULL + 1", "null"),
        ("(NULL).a", "$missing::null"),
        ("5 = 'a'", "false"),  # `=` compares anything
        ("5 IN 5", "$missing::null"),  # never TRUE, but no error
        ("{'a': 1}.a", "1"),
        ("COLL_SUM(NULL)", "null"),
    ],
)
def test_strict_mode_keeps_what_is_no_type_error(ctx: Any, expr: str, expected: str) -> None:
    assert value(ctx, expr, "strict") == expected


def test_execute_takes_the_mode_too(ctx: Any) -> None:
    assert py(execute(ctx, "SELECT VALUE 1 + 'a' FROM <<0>>")) == [None]
    with pytest.raises(DataError, match="strict mode"):
        execute(ctx, "SELECT VALUE 1 + 'a' FROM <<0>>", mode="strict")


def test_a_plan_compiled_in_one_mode_is_not_reused_in_the_other(ctx: Any) -> None:
    statement = "SELECT VALUE x.missing_field FROM [{'a': 1}] AS x"
    assert py(execute(ctx, statement)) == [None]
    with pytest.raises(DataError):
        execute(ctx, statement, mode="strict")
    assert py(execute(ctx, statement)) == [None]


def test_unknown_mode_is_refused(ctx: Any) -> None:
    with pytest.raises(ProgrammingError, match="mode must be one of permissive, strict"):
        execute(ctx, "1", mode="lenient")


def test_an_undefined_variable_outside_any_from_is_an_error(ctx: Any) -> None:
    with pytest.raises(ProgrammingError, match="undefined variable nope"):
        execute(ctx, "nope + 1")
    with pytest.raises(ProgrammingError, match="undefined variable nope"):
        execute(ctx, "SELECT VALUE nope FROM <<0>>", mode="strict")
    assert py(execute(ctx, "SELECT VALUE nope FROM <<{'a': 1}>>")) == [None]  # a field


def test_evaluate_returns_the_statement_value(ctx: Any) -> None:
    assert value(ctx, "SELECT VALUE x FROM [1, 2] AS x") == "$bag::[1,2]"
    assert value(ctx, "SELECT VALUE x FROM [2, 1] AS x ORDER BY x") == "[1,2]"
    assert value(ctx, "[1, MISSING]") == "[1,$missing::null]"
    assert value(ctx, "SELECT VALUE n FROM nums AS n", nums="[3]") == "$bag::[3]"


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("COLL_COUNT([1, NULL, 2])", "2"),
        ("COLL_SUM(<<1, 2, 3>>)", "6"),
        ("COLL_AVG([1, 2])", "1.5"),
        ("COLL_MIN([3, 1, 2])", "1"),
        ("COLL_MAX(DISTINCT [1, 5, 5])", "5"),
        ("COLL_COUNT(DISTINCT [1, 1, 2])", "2"),
        ("COLL_EVERY([true, false])", "false"),
        ("COLL_ANY([false, true])", "true"),
        ("COLL_SUM([])", "null"),
        ("COLL_SUM(MISSING)", "$missing::null"),
        ("COLL_COUNT(SELECT VALUE x FROM [1, 2, 3] AS x WHERE x > 1)", "2"),
        ("POSITION('c' IN 'abc')", "3"),
        ("POSITION('z' IN 'abc')", "0"),
        ("OVERLAY('hello' PLACING 'XX' FROM 2)", '"hXXlo"'),
        ("OVERLAY('hello' PLACING 'XX' FROM 2 FOR 3)", '"hXXo"'),
        ("OVERLAY('hello' PLACING '' FROM 1 FOR 1)", '"ello"'),
        ("BIT_LENGTH('ab')", "16"),
        ("OCTET_LENGTH('é')", "2"),
        ("TUPLEUNION({'a': 1}, {'b': 2})", "{a:1,b:2}"),
        ("CARDINALITY({'a': 1, 'a': 2})", "2"),
        ("{'a': 1}.'a'", "1"),
    ],
)
def test_functions(ctx: Any, expr: str, expected: str) -> None:
    assert value(ctx, expr) == expected


def test_position_needs_its_in(ctx: Any) -> None:
    with pytest.raises(ProgrammingError, match="POSITION"):
        execute(ctx, "POSITION('abc')")


def test_decimal_cast_checks_precision_and_scale(ctx: Any) -> None:
    with pytest.raises(ProgrammingError, match="precision"):
        execute(ctx, "CAST(5 AS DECIMAL(5, 10))")


# ---------------------------------------------------------------- queries


def test_group_as_binds_each_group_rows(ctx: Any) -> None:
    rows = py(
        execute(
            ctx,
            "SELECT k, g FROM [{'k': 1, 'v': 'a'}, {'k': 1, 'v': 'b'}] AS t "
            "GROUP BY t.k AS k GROUP AS g",
        )
    )
    assert rows == [{"k": 1, "g": [{"t": {"k": 1, "v": "a"}}, {"t": {"k": 1, "v": "b"}}]}]


def test_select_star_over_a_join_keeps_both_fields_of_a_name(ctx: Any) -> None:
    (row,) = execute(ctx, "SELECT * FROM [{'id': 1}] AS a, [{'id': 2}] AS b")
    assert sorted(row.items()) == [("id", 1), ("id", 2)]
    assert dumps_text(row) in ("{id:1,id:2}", "{id:2,id:1}")


def test_star_of_a_non_struct_is_named_by_position(ctx: Any) -> None:
    assert py(execute(ctx, "SELECT x.* FROM ['foo', {'a': 1}] AS x")) == [{"_1": "foo"}, {"a": 1}]


def test_parenthesized_and_nested_joins(ctx: Any) -> None:
    statement = (
        "SELECT a.x, b.y, c.z FROM [{'x': 1}] AS a INNER JOIN "
        "([{'y': 1}] AS b INNER JOIN [{'z': 1}, {'z': 2}] AS c ON b.y = c.z) ON a.x = b.y"
    )
    assert py(execute(ctx, statement)) == [{"x": 1, "y": 1, "z": 1}]
    assert py(execute(ctx, "SELECT * FROM (<<{'x': 1}>> CROSS JOIN <<{'y': 2}>>)")) == [
        {"x": 1, "y": 2}
    ]


def test_left_cross_join_pads_with_null(ctx: Any) -> None:
    rows = py(
        execute(ctx, "SELECT s.id, b FROM [{'id': 1, 'bs': []}] AS s LEFT CROSS JOIN s.bs AS b")
    )
    assert rows == [{"id": 1, "b": None}]
