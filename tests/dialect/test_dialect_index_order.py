"""ORDER BY on an indexed field reads the index in order, and answers exactly as a sort.

The same documents go into an indexed and an unindexed table; every ORDER BY variant
must give the same sequence from both.  The values are chosen where an index's order
and PartiQL's part ways: NULL and MISSING (NULLS FIRST/LAST), NaN (PartiQL puts it
before every number, an index after), lists beside S-expressions, strings longer than an
index key keeps, mixed types.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from amazon.ion import simpleion

import ledger
from ledger.ion import dumps_text
from ledger.query import explain

LONG = "x" * 3000
VALUES = """
1 -3 2.5 7e0 nan +inf -inf true false "a" "b" 'c' 2020-01-01T 2019-06-05T10:00Z
[1] [2] (1) {a: 1} {a: 2} {{aGVsbG8=}} null null.int
"""
ABSENT = "absent"


def _documents() -> list[Any]:
    values = simpleion.loads(VALUES, single_value=False)
    docs = [{"n": i, "k": v} for i, v in enumerate(values)]
    docs += [{"n": len(docs), "k": LONG + "b"}, {"n": len(docs) + 1, "k": LONG + "a"}]
    return docs + [{"n": len(docs) + 2}, {"n": len(docs) + 3}]  # no k at all


@pytest.fixture(scope="module")
def db() -> Iterator[Any]:
    conn = ledger.connect(":memory:")
    conn.execute("CREATE TABLE Indexed")
    conn.execute("CREATE INDEX ON Indexed (k)")
    conn.execute("CREATE TABLE Plain")
    docs = _documents()
    conn.execute("INSERT INTO Indexed ?", docs)
    conn.execute("INSERT INTO Plain ?", docs)
    try:
        yield conn
    finally:
        conn.close()


def _keys(db: Any, table: str, order: str) -> list[str]:
    """The ORDER BY column of each row (NULL and MISSING alike: PartiQL ties them)."""
    rows = db.execute(f"SELECT VALUE t.k FROM {table} AS t ORDER BY t.k {order}")
    return [_text(v) for v in rows]


def _text(value: Any) -> str:
    text = dumps_text(value)
    return ABSENT if text.startswith(("null", "$missing")) else text


@pytest.mark.parametrize(
    "order",
    ["", "ASC NULLS FIRST", "ASC NULLS LAST", "DESC", "DESC NULLS FIRST", "DESC NULLS LAST"],
)
def test_index_order_equals_the_sorted_scan(db: Any, order: str) -> None:
    assert _keys(db, "Indexed", order) == _keys(db, "Plain", order)


@pytest.mark.parametrize("window", ["LIMIT 3", "LIMIT 5 OFFSET 4", "OFFSET 20"])
def test_index_order_with_limit_and_offset(db: Any, window: str) -> None:
    assert _keys(db, "Indexed", window) == _keys(db, "Plain", window)


def test_the_plan_reads_the_whole_index_in_order(db: Any) -> None:
    with db.transaction() as tx:
        (plan,) = explain(tx, "SELECT * FROM Indexed AS t ORDER BY t.k DESC")
    assert plan["access"] == "index range" and plan["field"] == "k"
    assert plan["order"] == "DESC" and "low" not in plan


def test_nan_and_nulls_land_where_partiql_puts_them(db: Any) -> None:
    keys = _keys(db, "Indexed", "ASC")
    assert keys[:2] == ["false", "true"]
    assert keys[2] == "nan"  # before -inf: PartiQL's order, not the index's
    assert keys[-4:] == [ABSENT] * 4
