"""Differential test: random SELECTs on the ledger and on SQLite must agree.

Hypothesis makes a table of flat documents and a few queries over it; each query runs
on the real ledger (documents in a table with indexes on ``a`` and ``s``, so the
planner's index paths are exercised too) and on SQLite (``sqlite3``, the same rows as
columns), and the answers must be the same rows (the same order under ORDER BY).

The queries stay in the subset where SQL and PartiQL mean the same thing:

- values are ints and strings, and NULL: a document stores an absent value as an
  explicit ``null``, never leaves the field out (MISSING has no SQL counterpart);
  no floats or decimals (their exactness differs), except that AVG is compared after
  rounding (SQLite gives a float, PartiQL a decimal);
- every comparison is between values of one type (PartiQL makes ``1 < 'a'`` MISSING,
  SQLite orders types); no division (``1/0`` is NULL in SQLite, an error here);
- LIKE patterns are case-sensitive on both sides (``PRAGMA case_sensitive_like``);
- ORDER BY always ends in a unique key (``t.id``, or every selected column under
  DISTINCT) and always says NULLS FIRST or LAST (the defaults differ); LIMIT and OFFSET
  only come with ORDER BY; results without ORDER BY are compared as multisets;
- grouped queries select the group key and aggregates (COUNT, SUM, MIN, MAX, AVG), as
  SQL requires.

``LEDGER_SOAK=1`` runs many more examples.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger.ion import is_null

SOAK = os.environ.get("LEDGER_SOAK") == "1"
EXAMPLES = 400 if SOAK else 40
INTS = ("a", "b", "c")
TEXTS = ("s",)
WORDS = ("", "a", "b", "ab", "ba", "A", "a_b", "x%y", "bb")
PATTERNS = ("%", "a%", "%b", "_", "a_", "%a%", "b%", "", "A%", "%\\_%")

# ---------------------------------------------------------------- data

ints = st.one_of(st.none(), st.integers(-3, 3))
texts = st.one_of(st.none(), st.sampled_from(WORDS))
documents = st.lists(
    st.fixed_dictionaries({"a": ints, "b": ints, "c": ints, "s": texts}), max_size=25
)

# ---------------------------------------------------------------- queries


def _int_atom() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([f"t.{c}" for c in INTS]), st.integers(-3, 3).map(str))


int_exprs = st.one_of(
    _int_atom(),
    st.tuples(_int_atom(), st.sampled_from(["+", "-", "*"]), _int_atom()).map(
        lambda p: f"({p[0]} {p[1]} {p[2]})"
    ),
)
text_exprs = st.one_of(st.just("t.s"), st.sampled_from(WORDS).map(lambda w: f"'{w}'"))
comparison_ops = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])


def _comparison() -> st.SearchStrategy[str]:
    same_type = st.one_of(
        st.tuples(int_exprs, comparison_ops, int_exprs),
        st.tuples(text_exprs, comparison_ops, text_exprs),
        st.tuples(int_exprs, comparison_ops, st.just("NULL")),
    )
    return same_type.map(lambda p: f"{p[0]} {p[1]} {p[2]}")


def _atomic_predicate() -> st.SearchStrategy[str]:
    between = st.tuples(int_exprs, st.booleans(), st.integers(-3, 3), st.integers(-3, 3)).map(
        lambda p: f"{p[0]} {'NOT ' if p[1] else ''}BETWEEN {p[2]} AND {p[3]}"
    )
    in_list = st.tuples(
        int_exprs, st.booleans(), st.lists(st.one_of(st.integers(-3, 3), st.none()), min_size=1)
    ).map(
        lambda p: (
            f"{p[0]} {'NOT ' if p[1] else ''}IN "
            f"({', '.join('NULL' if v is None else str(v) for v in p[2])})"
        )
    )
    like = st.tuples(st.booleans(), st.sampled_from(PATTERNS)).map(
        lambda p: (
            f"t.s {'NOT ' if p[0] else ''}LIKE '{p[1]}'" + (" ESCAPE '\\'" if "\\" in p[1] else "")
        )
    )
    is_null = st.tuples(st.sampled_from([*INTS, *TEXTS]), st.booleans()).map(
        lambda p: f"t.{p[0]} IS {'NOT ' if p[1] else ''}NULL"
    )
    return st.one_of(_comparison(), between, in_list, like, is_null)


predicates = st.recursive(
    _atomic_predicate(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(
            lambda p: f"({p[0]} {p[1]} {p[2]})"
        ),
        inner.map(lambda p: f"NOT ({p})"),
    ),
    max_leaves=4,
)
where_clauses = st.one_of(st.just(""), predicates.map(lambda p: f" WHERE {p}"))
# no literals: `ORDER BY 1` is a column position in SQL
order_keys = st.sampled_from(["t.a", "t.b", "t.c", "t.s", "(t.a + t.b)", "(t.c * -1)"])
directions = st.tuples(st.sampled_from(["ASC", "DESC"]), st.sampled_from(["FIRST", "LAST"])).map(
    lambda p: f"{p[0]} NULLS {p[1]}"
)


def _window(ordered: bool) -> st.SearchStrategy[str]:
    if not ordered:
        return st.just("")
    limit = st.one_of(st.just(""), st.integers(0, 6).map(lambda n: f" LIMIT {n}"))
    return st.tuples(limit, st.integers(0, 4)).map(
        lambda p: p[0] + (f" OFFSET {p[1]}" if p[0] and p[1] else "")
    )


@st.composite
def plain_queries(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.one_of(int_exprs, text_exprs), min_size=1, max_size=3))
    select = ", ".join(f"{e} AS c{i}" for i, e in enumerate(items))
    distinct = draw(st.booleans())
    where = draw(where_clauses)
    order = ""
    if distinct and draw(st.booleans()):
        order = " ORDER BY " + ", ".join(f"c{i} {draw(directions)}" for i in range(len(items)))
    elif not distinct and draw(st.booleans()):
        keys = draw(st.lists(order_keys, max_size=2))
        order = " ORDER BY " + ", ".join([*(f"{k} {draw(directions)}" for k in keys), "t.id"])
    window = draw(_window(bool(order)))
    head = "SELECT DISTINCT" if distinct else "SELECT"
    return f"{head} {select} FROM T AS t{where}{order}{window}"


aggregates = st.one_of(
    st.just("COUNT(*)"),
    st.tuples(st.sampled_from(["COUNT", "SUM", "MIN", "MAX", "AVG"]), st.sampled_from(INTS)).map(
        lambda p: f"{p[0]}(t.{p[1]})"
    ),
    st.sampled_from(["MIN(t.s)", "MAX(t.s)", "COUNT(t.s)"]),
)


@st.composite
def grouped_queries(draw: st.DrawFn) -> str:
    key = draw(st.one_of(st.just(""), st.sampled_from([*INTS, *TEXTS])))
    aggs = draw(st.lists(aggregates, min_size=1, max_size=3))
    items = ([f"t.{key} AS k"] if key else []) + [f"{a} AS g{i}" for i, a in enumerate(aggs)]
    query = f"SELECT {', '.join(items)} FROM T AS t{draw(where_clauses)}"
    if not key:
        return query
    query += f" GROUP BY t.{key}"
    if draw(st.booleans()):
        query += f" HAVING COUNT(*) {draw(comparison_ops)} {draw(st.integers(0, 3))}"
    if draw(st.booleans()):
        query += f" ORDER BY k {draw(directions)}" + draw(_window(True))
    return query


queries = st.one_of(plain_queries(), grouped_queries())

# ---------------------------------------------------------------- the two databases


@pytest.fixture(scope="module")
def ledger_db() -> Iterator[Any]:
    db = ledger.connect(":memory:")
    db.execute("CREATE TABLE T")
    db.execute("CREATE INDEX ON T (a)")
    db.execute("CREATE INDEX ON T (s)")
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(scope="module")
def sqlite_db() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA case_sensitive_like = ON")
    db.execute("CREATE TABLE T (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c INTEGER, s TEXT)")
    try:
        yield db
    finally:
        db.close()


def _load(ledger_db: Any, sqlite_db: sqlite3.Connection, docs: list[dict[str, Any]]) -> None:
    rows = [{"id": i, **doc} for i, doc in enumerate(docs)]
    ledger_db.execute("DELETE FROM T")  # apart: one transaction writes at most 40 documents
    if rows:
        ledger_db.execute("INSERT INTO T ?", rows)
    sqlite_db.execute("DELETE FROM T")
    sqlite_db.executemany("INSERT INTO T VALUES (:id, :a, :b, :c, :s)", rows)


def _plain(value: Any) -> Any:
    """One result value in a shape both sides share."""
    if value is None or is_null(value):
        return None
    if isinstance(value, Decimal | float):
        return round(float(value), 9)  # AVG: a decimal here, a float in SQLite
    if isinstance(value, str):
        return str(value)
    return int(value)


def _ledger_rows(db: Any, query: str) -> list[tuple[Any, ...]]:
    names = _aliases(query)
    return [tuple(_plain(row.get(name)) for name in names) for row in db.execute(query)]


def _sqlite_rows(db: sqlite3.Connection, query: str) -> list[tuple[Any, ...]]:
    return [tuple(_plain(v) for v in row) for row in db.execute(query)]


def _aliases(query: str) -> list[str]:
    head = query.split(" FROM T AS t")[0]
    return [part.rsplit(" AS ", 1)[1] for part in _split_items(head)]


def _split_items(head: str) -> list[str]:
    """The select items of ``SELECT [DISTINCT] a AS x, (b + 1) AS y``."""
    body = head.removeprefix("SELECT ").removeprefix("DISTINCT ")
    items, depth, current = [], 0, ""
    for ch in body:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += ch
    return [*items, current.strip()]


# ---------------------------------------------------------------- the test


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=documents, batch=st.lists(queries, min_size=1, max_size=6))
def test_ledger_agrees_with_sqlite(
    ledger_db: Any, sqlite_db: sqlite3.Connection, docs: list[dict[str, Any]], batch: list[str]
) -> None:
    _load(ledger_db, sqlite_db, docs)
    for query in batch:
        want = _sqlite_rows(sqlite_db, query)
        got = _ledger_rows(ledger_db, query)
        if " ORDER BY " not in query:
            got, want = sorted(got, key=repr), sorted(want, key=repr)
        assert got == want, f"{query}\n  ledger: {got}\n  sqlite: {want}\n  rows: {docs}"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT t.a AS c0 FROM T AS t WHERE t.a >= 1 ORDER BY t.a ASC NULLS FIRST, t.id",
        "SELECT t.s AS c0 FROM T AS t WHERE t.s < 'b' ORDER BY t.s DESC NULLS LAST, t.id",
        "SELECT t.a AS k, COUNT(*) AS g0, AVG(t.b) AS g1 FROM T AS t GROUP BY t.a "
        "ORDER BY k ASC NULLS LAST",
        "SELECT DISTINCT t.s AS c0 FROM T AS t WHERE t.s LIKE 'a%' OR t.s IS NULL",
        "SELECT COUNT(*) AS g0, SUM(t.a) AS g1 FROM T AS t WHERE t.a IN (1, 2, NULL)",
    ],
)
def test_known_queries_agree(ledger_db: Any, sqlite_db: sqlite3.Connection, query: str) -> None:
    docs = [
        {"a": a, "b": b, "c": None, "s": s}
        for a, b, s in [(1, 2, "a"), (None, 3, "ab"), (2, None, None), (1, 1, "b"), (3, 3, "A")]
    ]
    _load(ledger_db, sqlite_db, docs)
    want = _sqlite_rows(sqlite_db, query)
    got = _ledger_rows(ledger_db, query)
    if " ORDER BY " not in query:
        got, want = sorted(got, key=repr), sorted(want, key=repr)
    assert got == want
