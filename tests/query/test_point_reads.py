"""The point-read fast path (ledger/query/point.py) against the general pipeline.

Differential oracle: random point-read statements (index equality, an unindexed field,
``BY id``, missing keys, nulls, 1 / 1.0 / 1e0 / decimals, strings and symbols, both
typing modes, both value models, with and without the transaction's own pending
writes) run once through the fast path and once with it switched off
(``point.ENABLED = False``); rows (as Ion bytes), read sets, ReadIOs and errors must be
identical.  Then OCC: a concurrent insert of the looked-up key, or an update of the
document read by id, makes the reader's commit conflict.  Runtime: about 10 s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyNull
from amazon.ion.symbols import SymbolToken
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger import ion
from ledger.query import executor, point

INDEXED = [
    "SELECT * FROM T WHERE k = ?",
    "SELECT * FROM T WHERE ? = k",
    "SELECT * FROM T AS x WHERE x.k = ?",
    "SELECT * FROM T AS x WHERE x['k'] = ?",
    "SELECT * FROM T BY d WHERE k = ?",
]
BY_ID = [
    "SELECT * FROM T BY id WHERE id = ?",
    "SELECT * FROM T AS x BY id WHERE id = ?",
    "SELECT * FROM T AS x BY id WHERE ? = id",
]
GENERAL = [  # shapes the fast path leaves alone: they must still be right
    "SELECT * FROM T WHERE u = ?",
    "SELECT * FROM T AS x WHERE x.u = ?",
    "SELECT k FROM T WHERE k = ?",
]

VALUES: list[Any] = [
    0,
    1,
    -1,
    1.0,
    float("nan"),
    Decimal("1"),
    Decimal("1.0"),
    Decimal("1E0"),
    Decimal("-0"),
    "a",
    "b",
    "",
    SymbolToken("a", None),
    True,
    False,
    None,
    IonPyNull.from_value(IonType.STRING, None),
    IonPyNull.from_value(IonType.INT, None),
    dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    b"a",
    [1],
    {"a": 1},
]


def _doc(i: int, k: Any, u: Any, missing: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"n": i, "u": u}
    if not missing:
        doc["k"] = k
    return doc


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ledger.Ledger, list[str]]]:
    db = ledger.connect(tmp_path_factory.mktemp("point") / "p.ledger")
    db.execute("CREATE TABLE T")
    db.execute("CREATE INDEX ON T (k)")
    ids = []
    for i, value in enumerate(VALUES * 2):
        row = db.execute("INSERT INTO T ?", _doc(i, value, VALUES[-i % len(VALUES)], i == 7))
        ids.append(str(row.one()["documentId"]))
    yield db, ids
    db.close()


@contextmanager
def general_only() -> Iterator[None]:
    point.ENABLED = False
    try:
        yield
    finally:
        point.ENABLED = True


def _run(db: ledger.Ledger, statement: str, param: Any, mode: str, pending: Any) -> tuple[Any, ...]:
    tx = db.transaction()
    try:
        if pending is not None:
            tx.execute("INSERT INTO T ?", {"k": pending, "n": -1})
        try:
            cursor = tx.execute(statement, param, mode=mode)
        except ledger.Error as exc:
            outcome: Any = ("error", type(exc).__name__, str(exc))
        else:
            rows = sorted(ion.dumps(row) for row in cursor)
            outcome = ("rows", rows, cursor.get_consumed_ios())
        reads = tx.reads
        return outcome, dict(reads.docs), set(reads.tables), list(reads.ranges), reads.catalog
    finally:
        tx.abort()


def _is_fast(statement: str, mode: str) -> bool:
    entry = executor._plans.entries.get((statement, mode == "strict"))
    return entry is not None and hasattr(entry[0], "general")


params = st.one_of(
    st.sampled_from(VALUES),
    st.integers(-2, 2),
    st.text(alphabet="ab", max_size=2),
    st.text(alphabet="ab", max_size=2).map(lambda t: SymbolToken(t, None)),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    statement=st.sampled_from(INDEXED + GENERAL),
    param=params,
    mode=st.sampled_from(["permissive", "strict"]),
    model=st.sampled_from(ledger.ion.VALUE_MODELS),
    pending=st.one_of(st.none(), st.sampled_from(VALUES[:14])),
)
def test_index_point_reads_match_the_general_path(loaded, statement, param, mode, model, pending):
    db, _ = loaded
    db.value_model = model
    fast = _run(db, statement, param, mode, pending)
    if statement in INDEXED:
        assert _is_fast(statement, mode)
    with general_only():
        slow = _run(db, statement, param, mode, pending)
    assert fast == slow


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    statement=st.sampled_from(BY_ID),
    choice=st.integers(0, 10_000),
    form=st.sampled_from(["string", "symbol", "missing", "short", "number", "null"]),
    mode=st.sampled_from(["permissive", "strict"]),
    model=st.sampled_from(ledger.ion.VALUE_MODELS),
)
def test_by_id_point_reads_match_the_general_path(loaded, statement, choice, form, mode, model):
    db, ids = loaded
    db.value_model = model
    doc_id = ids[choice % len(ids)]
    param = {
        "string": doc_id,
        "symbol": SymbolToken(doc_id, None),
        "missing": "A" * len(doc_id),
        "short": doc_id[:5],
        "number": choice,
        "null": None,
    }[form]
    fast = _run(db, statement, param, mode, None)
    assert _is_fast(statement, mode)
    with general_only():
        slow = _run(db, statement, param, mode, None)
    assert fast == slow
    if form in ("string", "symbol"):
        assert fast[0][0] == "rows" and len(fast[0][1]) == 1


def test_known_answers(loaded):
    """1, 1.0, 1e0 and the decimals are one number to `=`; "a" and 'a' one text."""
    db, _ = loaded
    db.value_model = "may_be_bare"
    ones = db.execute("SELECT * FROM T WHERE k = ?", 1).fetchall()
    assert sorted(row["n"] for row in ones) == [1, 3, 5, 6, 23, 25, 27, 28, 29]  # 7 lacks k
    texts = db.execute("SELECT * FROM T WHERE k = ?", SymbolToken("a", None)).fetchall()
    assert sorted(row["n"] for row in texts) == [9, 12, 31, 34]
    assert db.execute("SELECT * FROM T WHERE k = ?", None).fetchall() == []


# -- OCC: the fast path's read set catches what the general one catches --------------


@pytest.fixture
def two(ledger_path):
    a = ledger.connect(ledger_path)
    b = ledger.connect(ledger_path)
    a.execute("CREATE TABLE Car")
    a.execute("CREATE INDEX ON Car (VIN)")
    doc_id = a.execute("INSERT INTO Car ?", {"VIN": "V1", "n": 1}).one()["documentId"]
    yield a, b, str(doc_id)
    a.close()
    b.close()


@pytest.mark.parametrize("fast", [True, False])
def test_concurrent_insert_of_the_looked_up_key_conflicts(two, fast):
    a, b, _ = two
    point.ENABLED = fast
    try:
        t1 = a.transaction()
        assert t1.execute("SELECT * FROM Car WHERE VIN = ?", "V2").fetchall() == []
        assert _is_fast("SELECT * FROM Car WHERE VIN = ?", "permissive")
        b.execute("INSERT INTO Car ?", {"VIN": "V2", "n": 2})
        t1.execute("INSERT INTO Car ?", {"VIN": "V2", "n": 3})
        before = a.digest()
        with pytest.raises(ledger.OccConflictError):
            t1.commit()
        assert a.digest() == before
    finally:
        point.ENABLED = True
    assert len(a.execute("SELECT * FROM Car WHERE VIN = ?", "V2").fetchall()) == 1


def test_insert_of_another_key_does_not_conflict(two):
    a, b, _ = two
    t1 = a.transaction()
    assert t1.execute("SELECT * FROM Car WHERE VIN = ?", "V2").fetchall() == []
    b.execute("INSERT INTO Car ?", {"VIN": "V9", "n": 9})
    t1.execute("INSERT INTO Car ?", {"VIN": "V2", "n": 3})
    t1.commit()
    assert t1.state == "committed"


def test_update_of_the_document_read_by_id_conflicts(two):
    a, b, doc_id = two
    t1 = a.transaction()
    [row] = t1.execute("SELECT * FROM Car AS c BY id WHERE id = ?", doc_id).fetchall()
    assert _is_fast("SELECT * FROM Car AS c BY id WHERE id = ?", "permissive")
    b.execute("UPDATE Car SET n = 5 WHERE VIN = 'V1'")
    t1.execute("INSERT INTO Car ?", {"VIN": "V3", "n": row["n"]})
    with pytest.raises(ledger.OccConflictError):
        t1.commit()
