"""Hints for common mistakes, wide characters in the table format, and EXPLAIN's bounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.cli.output import display_width, format_table


def test_double_quoted_string_that_finds_nothing_gets_a_hint(sample: Any, run: Any) -> None:
    result = run("execute", sample.path, 'SELECT * FROM Vehicle WHERE VIN = "1N4AL11D75C109151"')
    assert (result.exit_code, result.stdout) == (0, "")
    assert 'Hint: "1N4AL11D75C109151" in double quotes is a name' in result.stderr
    assert "strings take single quotes, '1N4AL11D75C109151'" in result.stderr
    found = run("execute", sample.path, "SELECT * FROM Vehicle WHERE VIN = '1N4AL11D75C109151'")
    assert found.stdout and found.stderr == ""


def test_unknown_table_and_field_get_did_you_mean(sample: Any, run: Any) -> None:
    table = run("execute", sample.path, "SELECT * FROM Vehicel")
    assert table.exit_code == 1 and "Hint: did you mean Vehicle?" in table.stderr
    field = run("execute", sample.path, "SELECT * FROM Vehicle AS v WHERE v.Yaer = 2011")
    assert (
        "Hint: no sampled document of Vehicle has a field Yaer: did you mean Year?" in field.stderr
    )


def test_values_rows_and_bare_struct_keys_name_the_real_cause(sample: Any, run: Any) -> None:
    values = run("execute", sample.path, "INSERT INTO Person VALUES ('P9', 'Zed')")
    assert values.exit_code == 1
    assert (
        "Hint: PartiQL inserts documents, not rows: INSERT INTO T VALUE {'field'" in values.stderr
    )
    bare = run("execute", sample.path, "INSERT INTO Person VALUE {GovId: 'P9'}")
    assert bare.exit_code == 1
    assert "struct keys are strings in PartiQL: write {'GovId': …}" in bare.stderr


@pytest.mark.parametrize("typed", [".tables", ".schema Vehicle", "show tables", "SHOW TABLES;"])
def test_other_shells_commands_point_at_dt(sample: Any, run: Any, typed: str) -> None:
    result = run("shell", sample.path, "-c", typed)
    assert result.exit_code == 1 and "\\dt lists the tables" in result.stderr


def test_syntax_error_lists_a_few_likely_tokens(sample: Any, run: Any) -> None:
    result = run("execute", sample.path, "SELECT * FROM Vehicle WHERE")
    expected = next(x for x in result.stderr.splitlines() if "expected one of" in x)
    listed = expected.split(": ", 1)[1].split(", ")
    assert len(listed) <= 7 and "more)" in listed[-1]


def test_table_format_aligns_wide_characters() -> None:
    text = format_table([{"name": "東京タワー", "n": 1}, {"name": "Paris", "n": 22}])
    lines = text.splitlines()
    assert {display_width(line) for line in lines} == {len(lines[0])}
    assert "| 東京タワー | 1  |" in lines
    assert display_width("é") == 1 and display_width("e\u0301") == 1 and display_width("漢") == 2


def test_explain_shows_the_bound_values_of_a_range(tmp_path: Path) -> None:
    with ledger.connect(tmp_path / "l") as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("CREATE INDEX ON Vehicle (Year)")
        (row,) = db.execute(
            "EXPLAIN SELECT * FROM Vehicle AS v WHERE v.Year > ? AND v.Year <= 2015", 2010
        ).fetchall()
    assert (row["access"], row["low"], row["lowValue"], row["high"], row["highValue"]) == (
        "index range",
        ">",
        2010,
        "<=",
        2015,
    )
