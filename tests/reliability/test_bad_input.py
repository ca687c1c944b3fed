"""Bad input: each case expects a specific error class and message, and leaves the
ledger exactly as it was (same digest, same documents).  Then a fuzz of the parser
and evaluator: nothing but the ledger's own errors ever escapes."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger import ion

SOAK = os.environ.get("LEDGER_SOAK") == "1"
LIMITS = ledger.Limits(documents_per_transaction=5, document_size=2000, statement_length=5000)


@pytest.fixture(scope="module")
def bad_db(tmp_path_factory):
    db = ledger.connect(tmp_path_factory.mktemp("bad") / "bad.ledger", limits=LIMITS)
    db.execute("CREATE TABLE Person")
    db.execute("CREATE INDEX ON Person (GovId)")
    db.execute("CREATE TABLE Gone")
    db.execute("DROP TABLE Gone")
    (row,) = db.execute("INSERT INTO Person ?", {"GovId": "P1", "Name": "Ann"})
    db.execute("UPDATE Person AS p SET p.Name = 'Anne'")
    db.doc_id = row["documentId"]  # type: ignore[attr-defined]
    yield db
    db.close()


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


def _state(db: ledger.Ledger) -> tuple[Any, list[str]]:
    rows = db.execute("SELECT * FROM _ql_committed_Person")
    return db.digest(), sorted(ion.dumps_text(r) for r in rows)


def _person_table(db: ledger.Ledger) -> str:
    return db.execute("SELECT VALUE tableId FROM information_schema.user_tables WHERE name = 'Person'").one()


CASES = [
    # (id, statement, params, error class, message pattern)
    ("syntax", "SELEC * FROM Person", (), ledger.ParseError, r"unexpected 'FROM' at line 1, column 9"),
    ("syntax-eof", "SELECT * FROM Person WHERE", (), ledger.ParseError, "expected"),
    ("unknown-table", "SELECT * FROM Nobody", (), ledger.ProgrammingError, "Nobody"),
    ("unknown-function", "SELECT FROBNICATE(p.Name) FROM Person AS p", (), ledger.ProgrammingError, "(?i)frobnicate"),
    ("too-few-params", "SELECT * FROM Person WHERE GovId = ?", (), ledger.ProgrammingError, "parameter"),
    ("too-many-params", "SELECT * FROM Person", ("x",), ledger.ProgrammingError, "parameter"),
    ("param-not-struct", "INSERT INTO Person ?", (42,), ledger.Error, "struct"),
    ("invalid-ion-literal", "INSERT INTO Person VALUE `{a: }`", (), ledger.Error, "(?i)ion"),
    ("oversize-document", "INSERT INTO Person ?", ({"x": "y" * 5000},), ledger.LimitExceededError, "limit is 2000"),
    ("too-many-documents", "INSERT INTO Person ?", ([{"n": i} for i in range(6)],), ledger.LimitExceededError, "5 documents"),
    ("write-dropped-table", "INSERT INTO Gone VALUE {'a': 1}", (), ledger.ProgrammingError, "Gone"),
    ("duplicate-table", "CREATE TABLE Person", (), ledger.ProgrammingError, "already exists"),
    ("index-missing-table", "CREATE INDEX ON Nobody (x)", (), ledger.ProgrammingError, "Nobody"),
    ("duplicate-index", "CREATE INDEX ON Person (GovId)", (), ledger.ProgrammingError, "already has an index"),
    ("undrop-active", "UNDROP TABLE \"{person}\"", (), ledger.ProgrammingError, "is active"),
    ("redact-latest", "EXEC REDACT_REVISION ?, ?, ?", "latest", ledger.ProgrammingError, "latest"),
    ("reserved-name", "CREATE TABLE \"select\"", (), ledger.ProgrammingError, "reserved"),
    ("non-utf8", b"SELECT * FROM Person WHERE Name = '\xff'", (), ledger.Error, "(?i)utf-8|text|str"),
    ("deeply-nested", "INSERT INTO Person ?", (_nested(400),), ledger.DataError, "nested more than 100"),
    ("deeply-nested-text", "SELECT " + "(" * 2000 + "1" + ")" * 2000 + " FROM Person", (),
     ledger.LimitExceededError, "nested too deeply"),
    ("huge-literal", "SELECT '" + "x" * 6000 + "' FROM Person", (), ledger.LimitExceededError, "5000"),
    ("statement-too-long", "SELECT * FROM Person WHERE " + " OR ".join(["Name = 'a'"] * 600), (),
     ledger.LimitExceededError, "characters"),
    ("unsupported", "SELECT * FROM Person UNION SELECT * FROM Person", (), ledger.NotSupportedError, "(?i)union"),
    ("wide-decimal", "INSERT INTO Person ?", ({"d": Decimal("1.0000000000000000000000000000000000000")},),
     ledger.DataError, "34 significant digits"),
]


@pytest.mark.parametrize(("statement", "params", "error", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly_and_changes_nothing(bad_db, statement, params, error, pattern):
    before = _state(bad_db)
    if isinstance(statement, str) and "{person}" in statement:
        statement = statement.replace("{person}", _person_table(bad_db))
    if params == "latest":
        latest = bad_db.execute(
            "SELECT VALUE h.blockAddress FROM history(Person) AS h WHERE h.metadata.version = 1").one()
        params = (latest, _person_table(bad_db), bad_db.doc_id)
    with pytest.raises(error, match=pattern):
        bad_db.execute(statement, *params)
    assert _state(bad_db) == before


def test_a_bad_statement_inside_a_transaction_leaves_the_others_uncommitted(bad_db):
    before = _state(bad_db)
    with pytest.raises(ledger.ProgrammingError):
        with bad_db.transaction() as tx:
            tx.execute("INSERT INTO Person ?", {"GovId": "P2"})
            tx.execute("SELECT * FROM Nobody")
    assert _state(bad_db) == before


statements = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from([
            "SELECT", "*", "FROM", "Person", "AS", "p", "WHERE", "p.Name", "=", "?", "'x'", "1",
            "1.5", "`{a:1}`", "<<", ">>", "(", ")", "[", "]", "{", "}", ",", ":", "AND", "OR", "NOT",
            "IN", "BETWEEN", "LIKE", "IS", "NULL", "MISSING", "COUNT(*)", "SUM(p.x)", "UPDATE", "SET",
            "DELETE", "INSERT", "INTO", "VALUE", "BY", "id", "ORDER", "GROUP", "LIMIT", "history(Person)",
            "_ql_committed_Person", "CAST", "TO_STRING", "EXTRACT", "YEAR", "+", "-", "/", "%", "||",
        ]),
        max_size=14,
    ).map(" ".join),
)


@settings(max_examples=1500 if SOAK else 150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statement=statements, params=st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=2))
def test_fuzz_only_ledger_errors_escape(bad_db, statement, params):
    before = bad_db.digest()
    with bad_db.transaction() as tx:
        try:
            tx.execute(statement, *params)
        except ledger.Error:
            pass
        tx.abort()
    assert bad_db.digest() == before
