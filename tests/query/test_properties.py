"""Properties checked over generated data (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fake import FakeContext, py
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.query import execute
from ledger.query.values import equal, sort_key

numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
scalars = st.one_of(numbers, st.text(max_size=5), st.booleans(), st.none())


def _table(values: list[Any], indexed: bool = False) -> FakeContext:
    ctx = FakeContext()
    execute(ctx, "CREATE TABLE T")
    if indexed:
        execute(ctx, "CREATE INDEX ON T (v)")
    for i, value in enumerate(values):
        execute(ctx, "INSERT INTO T ?", [{"i": i, "v": value}])
    return ctx


@settings(max_examples=60, deadline=None)
@given(st.lists(scalars, max_size=15), st.booleans())
def test_order_by_output_is_sorted(values: list[Any], descending: bool) -> None:
    ctx = _table(values)
    direction = "DESC" if descending else "ASC"
    rows = [py(r) for r in execute(ctx, f"SELECT VALUE v FROM T ORDER BY v {direction}")]
    assert len(rows) == len(values)
    keys = [sort_key(v, nulls_high=True) for v in rows]  # NULLS LAST asc, FIRST desc
    assert keys == sorted(keys, reverse=descending)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(), max_size=12),
    st.integers(min_value=0, max_value=15),
    st.integers(min_value=0, max_value=15),
)
def test_limit_offset_is_python_slicing(values: list[int], limit: int, offset: int) -> None:
    ctx = _table(values)
    rows = [
        py(r)
        for r in execute(ctx, "SELECT VALUE i FROM T ORDER BY i LIMIT ? OFFSET ?", [limit, offset])
    ]
    assert rows == list(range(len(values)))[offset : offset + limit]


@settings(max_examples=60, deadline=None)
@given(st.lists(numbers, max_size=12), numbers, numbers)
def test_index_range_agrees_with_full_scan(values: list[Any], low: Any, high: Any) -> None:
    plain = _table(values)
    indexed = _table(values, indexed=True)
    statement = "SELECT VALUE i FROM T WHERE v >= ? AND v < ? ORDER BY v, i"
    expected = [py(r) for r in execute(plain, statement, [low, high])]
    got = [py(r) for r in execute(indexed, statement, [low, high])]
    assert got == expected
    assert indexed.calls_named("index_range") and not indexed.calls_named("scan")


@settings(max_examples=60, deadline=None)
@given(st.lists(scalars, max_size=12), st.lists(scalars, min_size=1, max_size=3))
def test_index_in_agrees_with_full_scan(values: list[Any], keys: list[Any]) -> None:
    plain = _table(values)
    indexed = _table(values, indexed=True)
    marks = ", ".join("?" for _ in keys)
    statement = f"SELECT VALUE i FROM T WHERE v IN ({marks}) ORDER BY i"
    assert [py(r) for r in execute(indexed, statement, keys)] == [
        py(r) for r in execute(plain, statement, keys)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", None]), max_size=12))
def test_group_by_counts_match_python(values: list[Any]) -> None:
    ctx = _table(values)
    rows = [py(r) for r in execute(ctx, "SELECT v, COUNT(*) AS n FROM T GROUP BY v")]
    counts = {row.get("v"): row["n"] for row in rows}
    expected: dict[Any, int] = {}
    for value in values:
        expected[value] = expected.get(value, 0) + 1
    assert counts == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.decimals(min_value=-100, max_value=100, places=3, allow_nan=False), max_size=10))
def test_sum_of_decimals_is_exact(values: list[Decimal]) -> None:
    ctx = _table(values)
    (row,) = execute(ctx, "SELECT SUM(v) AS s FROM T")
    if values:
        assert Decimal(row["s"]) == sum(values, Decimal(0))


@settings(max_examples=40, deadline=None)
@given(st.lists(scalars, max_size=10))
def test_distinct_has_no_duplicates(values: list[Any]) -> None:
    ctx = _table(values)
    rows = execute(ctx, "SELECT DISTINCT VALUE v FROM T")
    keys = [sort_key(v) for v in rows]
    assert len(keys) == len(set(keys))
    assert {sort_key(v) for v in values} == set(keys)


@settings(max_examples=50, deadline=None)
@given(st.lists(scalars, max_size=8), st.lists(scalars, max_size=8))
def test_hash_join_agrees_with_python(left: list[Any], right: list[Any]) -> None:
    ctx = FakeContext()
    for name, values in (("L", left), ("R", right)):
        execute(ctx, f"CREATE TABLE {name}")
        for i, value in enumerate(values):
            execute(ctx, f"INSERT INTO {name} ?", [{"i": i, "v": value}])
    rows = execute(ctx, "SELECT l.i AS a, r.i AS b FROM L AS l, R AS r WHERE l.v = r.v")
    got = sorted((int(r["a"]), int(r["b"])) for r in rows)
    expected = sorted(
        (i, j) for i, x in enumerate(left) for j, y in enumerate(right) if equal(x, y) is True
    )
    assert got == expected
