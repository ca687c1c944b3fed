"""Errors on the real ledger say what was wrong and where.

- syntax errors: a ParseError with the line, the column, the statement with the place
  marked, and the tokens that would have fitted there;
- semantic errors: a ProgrammingError naming the table, field, function or index,
  pointing at it when the parser knew its place;
- PartiQL the ledger does not implement: NotSupportedError naming the feature, never a
  wrong answer.

A failed statement leaves its transaction usable and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import ledger
from ledger.errors import DataError, NotSupportedError, ParseError, ProgrammingError


@pytest.fixture
def db() -> Iterator[Any]:
    conn = ledger.connect(":memory:")
    conn.execute("CREATE TABLE Person")
    conn.execute("INSERT INTO Person ?", {"GovId": "P1", "Name": "Ann", "Age": 30})
    try:
        yield conn
    finally:
        conn.close()


# ---------------------------------------------------------------- syntax


def test_syntax_error_points_at_the_place_and_lists_what_fits(db: Any) -> None:
    statement = "SELECT *\nFROM Person AS p\nWHERE p.Age > > 3"
    with pytest.raises(ParseError) as info:
        db.execute(statement)
    error = info.value
    assert (error.line, error.column) == (3, 15)
    assert error.statement == statement
    assert "number" in error.expected and "identifier" in error.expected and "(" in error.expected
    text = str(error)
    assert "syntax error: unexpected '>' at line 3, column 15" in text
    assert "  WHERE p.Age > > 3\n                ^" in text
    assert "expected one of:" in text


def test_syntax_error_at_the_end_of_the_statement(db: Any) -> None:
    with pytest.raises(ParseError) as info:
        db.execute("SELECT * FROM Person WHERE")
    assert "unexpected end of statement" in str(info.value)
    assert (info.value.line, info.value.column) == (1, 27)
    assert "identifier" in info.value.expected


def test_keyword_suggestions_are_named_as_written(db: Any) -> None:
    with pytest.raises(ParseError) as info:
        db.execute("SELECT * FROM Person p ORDER p.Age")
    assert info.value.expected == ("BY",)


def test_bad_ion_literal_is_a_syntax_error_at_the_literal(db: Any) -> None:
    with pytest.raises(ParseError, match="invalid Ion literal") as info:
        db.execute("SELECT * FROM Person WHERE Age = `{a: 1`")
    assert (info.value.line, info.value.column) == (1, 34)


# ---------------------------------------------------------------- semantics


@pytest.mark.parametrize(
    ("statement", "message", "column"),
    [
        ("SELECT * FROM Nope", "unknown table Nope", 15),
        ("SELECT * FROM Person AS p, Nope AS n", "unknown table Nope", 28),
        ("INSERT INTO Nope VALUE {'a': 1}", "unknown table Nope", 13),
        ("UPDATE Nope SET a = 1", "unknown table Nope", 8),
        ("DELETE FROM Nope", "unknown table Nope", 13),
        ("FROM Nope AS n SET n.a = 1", "unknown table Nope", 6),
        ("DROP TABLE Nope", "unknown table Nope", 12),
        ("CREATE INDEX ON Nope (x)", "unknown table Nope", 17),
        ("SELECT * FROM history(Nope)", "unknown table Nope", 23),
        ('UNDROP TABLE "zz"', "unknown table id zz", 14),
        ('DROP INDEX "idx" ON Person WITH (purge = true)', "unknown index idx on table Person", 12),
        ("EXEC NOPE 1", "unknown stored procedure NOPE", 6),
        ("SELECT FROBNICATE(Age) FROM Person", "unknown function FROBNICATE", 8),
        ("SELECT UPPER(Name, Age) FROM Person", "UPPER takes 1 argument(s), got 2", 8),
    ],
)
def test_semantic_errors_name_the_culprit_and_point_at_it(
    db: Any, statement: str, message: str, column: int
) -> None:
    with pytest.raises(ProgrammingError) as info:
        db.execute(statement)
    assert not isinstance(info.value, ParseError)
    assert info.value.message == message
    assert (info.value.line, info.value.column) == (1, column)
    assert "^" in str(info.value)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("CREATE TABLE Person", "Person"),
        (
            "SELECT COUNT(*) FROM Person WHERE COUNT(*) > 1",
            "aggregate COUNT is not allowed in WHERE",
        ),
        ("INSERT INTO Person VALUE {'a': undefined_name}", "undefined variable undefined_name"),
        ("SELECT * FROM Person GROUP BY Age", "SELECT * cannot be used with GROUP BY"),
        ("CAST(1 AS WIDGET)", "unknown type WIDGET"),
        ("SELECT * FROM Person BY pid WHERE pid = ? AND Age = ?", "the statement takes 2, got 0"),
    ],
)
def test_other_semantic_errors_say_what_is_wrong(db: Any, statement: str, message: str) -> None:
    with pytest.raises(ProgrammingError, match=re.escape(message)):
        db.execute(statement)


def test_data_errors_name_the_value_and_type(db: Any) -> None:
    with pytest.raises(DataError, match=r"cannot cast \"Ann\" to INT"):
        db.execute("SELECT CAST(Name AS INT) AS n FROM Person")
    with pytest.raises(DataError, match="a document must be a struct, got int"):
        db.execute("INSERT INTO Person VALUE 5")
    with pytest.raises(DataError, match="division by zero"):
        db.execute("SELECT Age / 0 AS x FROM Person")


# ---------------------------------------------------------------- not supported


@pytest.mark.parametrize(
    ("statement", "feature"),
    [
        ("SELECT Name FROM Person UNION SELECT Name FROM Person", "UNION/INTERSECT/EXCEPT"),
        ("SELECT Name FROM Person EXCEPT SELECT Name FROM Person", "UNION/INTERSECT/EXCEPT"),
        ("PIVOT p.Age AT p.Name FROM Person AS p", "PIVOT"),
        ("SELECT * FROM UNPIVOT {'a': 1} AS v AT k", "UNPIVOT"),
        ("SELECT * FROM Person AS a RIGHT JOIN Person AS b ON true", "RIGHT JOIN"),
        ("SELECT * FROM Person AS a FULL OUTER JOIN Person AS b ON true", "FULL JOIN"),
        ("SELECT x FROM Person AS p LET p.Age + 1 AS x", "LET"),
        ("SELECT RANK() OVER (ORDER BY Age) FROM Person", "window functions"),
        ("SELECT Age FROM Person GROUP PARTIAL BY Age", "GROUP PARTIAL BY"),
        ("SELECT VALUE Age IS DECIMAL(5, 2) FROM Person", "IS DECIMAL"),
        (
            "SELECT * FROM Person AS a LEFT JOIN (Person AS b JOIN Person AS c ON true) ON true",
            "LEFT JOIN of a parenthesized join",
        ),
    ],
)
def test_unsupported_partiql_names_the_feature(db: Any, statement: str, feature: str) -> None:
    with pytest.raises(NotSupportedError) as info:
        db.execute(statement)
    assert feature in str(info.value)
    assert "not supported" in str(info.value)


# ---------------------------------------------------------------- nothing is written


def test_a_failed_statement_writes_nothing_and_the_transaction_goes_on(db: Any) -> None:
    with db.transaction() as tx:
        with pytest.raises(ProgrammingError):
            tx.execute("INSERT INTO Person VALUE {'GovId': undefined_name}")
        tx.execute("INSERT INTO Person VALUE {'GovId': 'P2'}")
    ids = sorted(str(v) for v in db.execute("SELECT VALUE GovId FROM Person"))
    assert ids == ["P1", "P2"]
