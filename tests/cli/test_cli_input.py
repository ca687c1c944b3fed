"""The input rules: tokenizing, "is this complete?", splitting, classifying."""

from __future__ import annotations

import pytest

from ledger.cli import scanner
from ledger.cli.buffer import is_complete, split_statements
from ledger.cli.classify import ABORT, BEGIN, COMMIT, META, STATEMENT, classify


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "SELECT * FROM Vehicle",
        "SELECT * FROM Vehicle WHERE Year >",  # balanced: Enter runs it (and the parser says why not)
        "INSERT INTO t << {'a': 1}, {'a': 2} >>",
        'SELECT `{a: "`"}` FROM t',  # a backtick inside an Ion string inside a literal
        "SELECT 'it''s' FROM t",
        'SELECT "a""b" FROM t',
        "SELECT (1;",  # ; runs even an unbalanced statement, so the error shows
        "\\d Vehicle",
        "\\i file with (parens",
        "SELECT 1 -- a comment with ( and '",
        "SELECT a < b, c > d FROM t",
    ],
)
def test_complete(text: str) -> None:
    assert is_complete(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM t WHERE x IN (1,",
        "INSERT INTO t << {'a': 1}",
        "INSERT INTO t VALUE {'a': [1, 2",
        "SELECT 'unclosed",
        'SELECT "unclosed',
        "SELECT `{a: 1",
        'SELECT `"`` FROM t',  # the backtick is inside an Ion string: still open
        "SELECT ('a;' ",
    ],
)
def test_incomplete(text: str) -> None:
    assert not is_complete(text)


def test_split_statements_respects_quotes_literals_and_meta_lines() -> None:
    text = (
        "SELECT 1; \\dt\n"
        "-- only a comment;\n"
        "SELECT 'a;b', `\"c;d\"` FROM t;\n"
        "\\d Vehicle\n"
        "CREATE TABLE x"
    )
    assert split_statements(text) == [
        "SELECT 1",
        "\\dt",
        "-- only a comment;\nSELECT 'a;b', `\"c;d\"` FROM t",  # comments stay with the statement
        "\\d Vehicle",
        "CREATE TABLE x",
    ]


def test_split_drops_empty_and_comment_only_pieces() -> None:
    assert split_statements(";;  -- nothing\n;") == []


def test_scanner_covers_the_text_and_marks_unterminated_tokens() -> None:
    text = "SELECT x.'a' FROM `{b:1}` -- c\n<<1>> 'open"
    tokens = list(scanner.tokens(text))
    assert "".join(t.text for t in tokens) == text
    assert [t.text for t in tokens if t.kind == scanner.PUNCT] == [".", "<<", ">>"]
    assert tokens[-1].kind == scanner.STRING and not tokens[-1].closed


def test_words_at_depth_zero_skip_subqueries_and_strings() -> None:
    words = scanner.words_at_depth_zero("UPDATE t SET a = (SELECT 1 FROM u WHERE b) , c = 'WHERE'")
    assert words == ["UPDATE", "T", "SET", "A", "C"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("BEGIN", BEGIN),
        ("begin transaction;", BEGIN),
        ("START TRANSACTION", BEGIN),
        ("COMMIT", COMMIT),
        ("commit work", COMMIT),
        ("ABORT", ABORT),
        ("ROLLBACK", ABORT),
        ("\\dt", META),
        ("help", META),
        ("quit", META),
        ("SELECT * FROM t", STATEMENT),
        ("BEGIN_TABLE", STATEMENT),
    ],
)
def test_classify_kinds(text: str, kind: str) -> None:
    assert classify(text).kind == kind


def test_classify_meta_name_and_arguments() -> None:
    command = classify("\\history  Vehicle  abc ")
    assert (command.name, command.args) == ("history", "Vehicle  abc")
    assert classify("exit").name == "q"
    assert classify("help").name == "?"


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("UPDATE Vehicle AS v SET v.Price = 1", "Vehicle"),
        ("UPDATE Vehicle SET Price = (SELECT VALUE 1 FROM t WHERE x = 1)", "Vehicle"),
        ('DELETE FROM "Person"', "Person"),
        ("DELETE FROM Person AS p BY pid", "Person"),
        ("FROM Vehicle AS v REMOVE v.Owner", "Vehicle"),
    ],
)
def test_unbounded_writes_are_flagged(text: str, table: str) -> None:
    command = classify(text)
    assert command.unbounded and command.writes and command.table == table


@pytest.mark.parametrize(
    "text",
    [
        "UPDATE Vehicle AS v SET v.Price = 1 WHERE v.VIN = 'x'",
        "DELETE FROM Person WHERE GovId = ?",
        "FROM Vehicle AS v WHERE v.VIN = 'x' REMOVE v.Owner",
        "SELECT * FROM Vehicle",
        "INSERT INTO Vehicle VALUE {'a': 'UPDATE'}",
    ],
)
def test_bounded_or_reading_statements_are_not_flagged(text: str) -> None:
    assert not classify(text).unbounded


def test_writes_and_ddl() -> None:
    assert classify("CREATE TABLE t").ddl
    assert classify('drop index "x" on t').ddl
    assert classify("INSERT INTO t VALUE {}").writes
    assert not classify("INSERT INTO t VALUE {}").ddl
    assert not classify("SELECT * FROM t").writes
