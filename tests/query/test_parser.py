"""Parsing: statement forms, literals, identifiers, errors, the parse cache."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import Error, NotSupportedError, ParseError
from ledger.query import ast, parse
from ledger.query.parser import parse_cached
from ledger.query.values import MISSING

STATEMENTS = [
    "SELECT * FROM Person",
    "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'",
    "SELECT p.FirstName AS f, p['LastName'], p.Addresses[0].City FROM Person AS p",
    "SELECT DISTINCT a FROM t AS x AT i BY id WHERE x.a > 1 ORDER BY a DESC NULLS LAST LIMIT 2 OFFSET 1",
    "SELECT a, COUNT(*) AS n FROM t GROUP BY a HAVING COUNT(*) > 1",
    "SELECT * FROM a LEFT OUTER JOIN b ON a.x = b.y INNER JOIN c ON true, d CROSS JOIN e",
    "SELECT * FROM history(Person, `2019-06-05T00:00:00Z`) AS h WHERE h.metadata.id = ?",
    "SELECT * FROM _ql_committed_Person",
    "INSERT INTO Person VALUE {'FirstName': 'Raul'}",
    "INSERT INTO Person << {'a': 1}, {'a': 2} >>",
    "INSERT INTO Person ?",
    "INSERT INTO Person <<?, ?>>",
    "UPDATE Person AS p BY pid SET p.x = 1, p.y.z = 'w' WHERE pid = ?",
    "UPDATE Person REMOVE Address WHERE GovId = ?",
    "UPDATE VehicleRegistration AS r INSERT INTO r.Owners.SecondaryOwners VALUE ? WHERE r.VIN = ?",
    "FROM VehicleRegistration AS r WHERE r.VIN = ? INSERT INTO r.Owners.SecondaryOwners VALUE ?",
    "FROM t AS a, a.list AS l WHERE l.x = 1 SET l.y = 2",
    "FROM t AS a REMOVE a.list[0]",
    "DELETE FROM Person AS p WHERE p.GovId = ?",
    "CREATE TABLE Person",
    'CREATE TABLE Person WITH (aws_tags = `{env: "dev"}`)',
    "DROP TABLE Person",
    'UNDROP TABLE "5PLf9SXwndd63lPaSIa0O6"',
    "CREATE INDEX ON Person (GovId)",
    'DROP INDEX "4tPW3fUhaVhDinRgKRLhGU" ON Person WITH (purge = true)',
    "EXEC REDACT_REVISION `{strandId:\"JdxjkR9bSYB5jMHWcI464T\", sequenceNo:17}`, 'a', 'b'",
    "EXEC redact_revision ?, 'a', 'b'",
    "EXPLAIN SELECT * FROM Person WHERE GovId = ?",
    "SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, CASE x WHEN 1 THEN 'one' END FROM t",
    "SELECT CAST(a AS INT), CAST(b AS DECIMAL(5, 2)), CAST(c AS DOUBLE PRECISION) FROM t",
    "SELECT TRIM(LEADING 'x' FROM a), TRIM(BOTH FROM b), TRIM(c), SUBSTRING(d FROM 2 FOR 3) FROM t",
    "SELECT EXTRACT(YEAR FROM a), DATE_ADD(day, 1, b), DATE_DIFF(month, a, b) FROM t",
    "SELECT * FROM t WHERE a LIKE 'x%' ESCAPE '!' AND b NOT BETWEEN 1 AND 2 AND c NOT IN (1, 2)",
    "SELECT * FROM t WHERE a IS NOT NULL AND b IS MISSING AND c IS STRING",
    "SELECT * FROM t WHERE EXISTS (SELECT * FROM u WHERE u.a = t.a)",
    "SELECT a.* FROM t AS a",
    "SELECT x FROM t -- a comment\nWHERE /* another */ x = 1",
    "1 + 2 * 3",
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_statement_forms_parse(statement: str) -> None:
    assert parse(statement) is not None


def test_select_structure() -> None:
    node = parse("SELECT p.a AS x, COUNT(*) FROM Person AS p BY pid WHERE pid = ? ORDER BY x DESC")
    assert isinstance(node, ast.Select)
    assert isinstance(node.projection, ast.ProjectList)
    first, second = node.projection.items
    assert isinstance(first, ast.SelectItem) and first.alias == "x"
    assert isinstance(second, ast.SelectItem) and isinstance(second.expr, ast.Call)
    assert second.expr.star and second.expr.name == "count"
    (source,) = node.from_
    assert isinstance(source, ast.Source)
    assert (source.alias, source.by) == ("p", "pid")
    assert node.order_by[0].descending
    assert isinstance(node.where, ast.Binary) and isinstance(node.where.right, ast.Param)


def test_literals() -> None:
    node = parse("[1, 1.50, 1e0, 'it''s', NULL, MISSING, TRUE, FALSE, `{a: 1d0}`, -2]")
    assert isinstance(node, ast.ExprStatement) and isinstance(node.expr, ast.ListLit)
    values = [item.value for item in node.expr.items]  # type: ignore[attr-defined]
    assert values[0] == 1 and type(values[0]) is int
    assert values[1] == Decimal("1.50") and str(values[1]) == "1.50"
    assert isinstance(values[2], Decimal)  # an exponent makes a decimal, as in QLDB
    assert values[3] == "it's"
    assert values[4] is None and values[5] is MISSING
    assert values[6] is True and values[7] is False
    assert values[8]["a"] == Decimal(1)
    assert values[9] == -2


def test_parameters_are_numbered_in_order() -> None:
    parsed = parse_cached("SELECT ? FROM t WHERE a = ? AND b IN (?, ?)")
    assert parsed.param_count == 4


def test_identifiers_are_case_sensitive_and_quotable() -> None:
    node = parse('SELECT "select", Abc FROM "My Table"')
    assert isinstance(node, ast.Select) and isinstance(node.projection, ast.ProjectList)
    names = [item.expr.name for item in node.projection.items]  # type: ignore[attr-defined]
    assert names == ["select", "Abc"]


def test_keywords_are_case_insensitive() -> None:
    assert parse("select * from t where a = 1") == parse("SELECT * FROM t WHERE a = 1")


def test_reserved_word_after_dot_is_a_field() -> None:
    node = parse("SELECT r.value, r.status FROM t AS r")
    assert isinstance(node, ast.Select) and isinstance(node.projection, ast.ProjectList)
    steps = [item.expr.steps[0].name for item in node.projection.items]  # type: ignore[attr-defined]
    assert steps == ["value", "status"]


def test_syntax_error_reports_position_and_expected_tokens() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT *\nFROM Person\nWHERE")
    err = info.value
    assert (err.line, err.column) == (3, 6)
    assert "identifier" in err.expected
    assert "(" in err.expected
    assert "WHERE" in err.statement  # type: ignore[operator]
    assert "^" in str(err)


def test_syntax_error_in_the_middle() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT a b c FROM t")
    err = info.value
    assert (err.line, err.column) == (1, 12)
    assert "FROM" in err.expected


def test_missing_from_keyword_error_names_from() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT * Person")
    assert "FROM" in info.value.expected


def test_reserved_word_cannot_be_a_bare_identifier() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT FROM t")
    assert info.value.column == 8


def test_expected_tokens_use_human_names() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT COUNT(* FROM t")
    assert info.value.expected == (")",)
    with pytest.raises(ParseError) as info:
        parse("SELECT * FROM t WHERE a IN (1, 2")
    assert ")" in info.value.expected and "," in info.value.expected


def test_join_needs_on() -> None:
    with pytest.raises(ParseError, match="ON"):
        parse("SELECT * FROM a JOIN b")
    assert parse("SELECT * FROM a CROSS JOIN b") is not None


def test_unexpected_character() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT # FROM t")
    assert info.value.column == 8
    assert "unexpected character" in info.value.message


def test_bad_ion_literal_points_at_it() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT * FROM t WHERE a = `{a:`")
    assert info.value.column == 27
    assert "Ion" in info.value.message


def test_unterminated_string() -> None:
    with pytest.raises(ParseError):
        parse("SELECT * FROM t WHERE a = 'oops")


@pytest.mark.parametrize(
    ("statement", "feature"),
    [
        ("SELECT a FROM t UNION SELECT b FROM u", "UNION"),
        ("SELECT a FROM t INTERSECT SELECT b FROM u", "UNION/INTERSECT/EXCEPT"),
        ("PIVOT v AT k FROM t", "PIVOT"),
        ("SELECT * FROM UNPIVOT t AS v AT k", "UNPIVOT"),
        ("SELECT RANK() OVER (PARTITION BY a ORDER BY b) FROM t", "window"),
        ("SELECT * FROM a RIGHT JOIN b ON true", "RIGHT JOIN"),
        ("SELECT * FROM a FULL OUTER JOIN b ON true", "FULL JOIN"),
        ("SELECT a FROM t GROUP PARTIAL BY a", "GROUP PARTIAL BY"),
        ("SELECT x FROM t LET a + 1 AS x", "LET"),
    ],
)
def test_unsupported_partiql_raises_not_supported(statement: str, feature: str) -> None:
    with pytest.raises(NotSupportedError, match=feature.split("/")[0]):
        parse(statement)


def test_parse_cache_hits_on_repeated_text() -> None:
    statement = "SELECT * FROM CacheProbe WHERE x = ?"
    parse_cached(statement)
    before = parse_cached.cache_info().hits
    again = parse_cached(statement)
    assert parse_cached.cache_info().hits == before + 1
    assert again is parse_cached(statement)


_FRAGMENTS = st.sampled_from(
    [
        "SELECT",
        "FROM",
        "WHERE",
        "t",
        "a.b",
        "*",
        ",",
        "(",
        ")",
        "'s'",
        "1",
        "1.5",
        "?",
        "=",
        "<<",
        ">>",
        "[",
        "]",
        "{",
        "}",
        ":",
        "AND",
        "NOT",
        "IN",
        "`1`",
        "`{`",
        "VALUE",
        "AS",
        "INSERT",
        "INTO",
        "UPDATE",
        "SET",
        "DELETE",
        "--c\n",
        '"q"',
        "@",
        "#",
        "'",
        "`",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=12).map(" ".join))
def test_parse_never_raises_anything_but_ledger_errors(text: str) -> None:
    try:
        parse(text)
    except Error:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parse_of_random_text_raises_only_ledger_errors(text: str) -> None:
    try:
        parse(text)
    except Error:
        pass
