"""Formatters: exact text for each format, on nested, typed and ragged rows."""

from __future__ import annotations

import pytest

from ledger import ion
from ledger.cli import output
from ledger.cli.output import render

ROWS = [
    ion.loads(
        '{VIN: "1N4", Price: 13500.00, Owner: {Name: "Ann", Since: 2019-06-05T}, '
        'Tags: [a, "b"], Sold: null.timestamp, Flag: true}'
    ),
    ion.loads('{VIN: "KM8", Year: 2015}'),
]


def test_ion_is_pretty_and_a_valid_stream() -> None:
    text = render(ROWS, "ion")
    assert text == (
        "{\n"
        '  VIN: "1N4",\n'
        "  Price: 13500.00,\n"
        "  Owner: {\n"
        '    Name: "Ann",\n'
        "    Since: 2019-06-05T\n"
        "  },\n"
        "  Tags: [\n"
        "    a,\n"
        '    "b"\n'
        "  ],\n"
        "  Sold: null.timestamp,\n"
        "  Flag: true\n"
        "}\n"
        "{\n"
        '  VIN: "KM8",\n'
        "  Year: 2015\n"
        "}\n"
    )
    assert [ion.dumps_text(v) for v in ion.loads_all(text)] == [ion.dumps_text(r) for r in ROWS]


def test_ion_keeps_annotations_and_quotes_odd_field_names() -> None:
    value = ion.loads("{'first name': x::1, blob: {{aGk=}}}")
    assert render([value], "ion") == "{\n  'first name': x::1,\n  blob: {{aGk=}}\n}\n"


def test_json_is_one_array() -> None:
    assert render(ROWS, "json") == (
        "[\n"
        "  {\n"
        '    "VIN": "1N4",\n'
        '    "Price": 13500.00,\n'
        '    "Owner": {\n'
        '      "Name": "Ann",\n'
        '      "Since": "2019-06-05"\n'
        "    },\n"
        '    "Tags": [\n'
        '      "a",\n'
        '      "b"\n'
        "    ],\n"
        '    "Sold": null,\n'
        '    "Flag": true\n'
        "  },\n"
        "  {\n"
        '    "VIN": "KM8",\n'
        '    "Year": 2015\n'
        "  }\n"
        "]\n"
    )
    assert render([], "json") == "[]\n"


def test_jsonl_is_one_value_per_line() -> None:
    assert render(ROWS, "jsonl") == (
        '{"VIN": "1N4", "Price": 13500.00, "Owner": {"Name": "Ann", "Since": "2019-06-05"}, '
        '"Tags": ["a", "b"], "Sold": null, "Flag": true}\n'
        '{"VIN": "KM8", "Year": 2015}\n'
    )


def test_table_flattens_nested_fields_to_dotted_columns() -> None:
    assert render(ROWS, "table") == (
        "+-----+----------+------------+-------------+---------+------+------+------+\n"
        "| VIN | Price    | Owner.Name | Owner.Since | Tags    | Sold | Flag | Year |\n"
        "+-----+----------+------------+-------------+---------+------+------+------+\n"
        '| 1N4 | 13500.00 | Ann        | 2019-06-05  | [a,"b"] | null | true |      |\n'
        "| KM8 |          |            |             |         |      |      | 2015 |\n"
        "+-----+----------+------------+-------------+---------+------+------+------+\n"
    )


def test_table_of_bare_values_and_of_nothing() -> None:
    values = [ion.loads('"Vehicle"'), ion.loads("3")]
    assert render(values, "table") == (
        "+---------+\n| value   |\n+---------+\n| Vehicle |\n| 3       |\n+---------+\n"
    )
    assert render([], "table") == ""


def test_table_cells_stay_on_one_line() -> None:
    assert render([{"a": "x\ny"}], "table") == "+------+\n| a    |\n+------+\n| x\\ny |\n+------+\n"


def test_csv_has_a_header_and_empty_cells_for_missing_fields() -> None:
    assert render(ROWS, "csv") == (
        "VIN,Price,Owner.Name,Owner.Since,Tags,Sold,Flag,Year\n"
        '1N4,13500.00,Ann,2019-06-05,"[a,""b""]",null,true,\n'
        "KM8,,,,,,,2015\n"
    )


def test_vertical_is_one_block_per_row() -> None:
    assert render(ROWS, "vertical") == (
        "-[ RECORD 1 ]-----------\n"
        "VIN         | 1N4\n"
        "Price       | 13500.00\n"
        "Owner.Name  | Ann\n"
        "Owner.Since | 2019-06-05\n"
        'Tags        | [a,"b"]\n'
        "Sold        | null\n"
        "Flag        | true\n"
        "-[ RECORD 2 ]\n"
        "VIN  | KM8\n"
        "Year | 2015\n"
    )


def test_empty_struct_is_a_cell_not_a_column_group() -> None:
    assert output.flatten({"a": {}, "b": {"c": 1}}) == {"a": {}, "b.c": 1}


def test_cells_for_each_ion_type() -> None:
    cell = output.cell
    assert cell(ion.loads("1.5e0")) == "1.5"
    assert cell(ion.loads("sym")) == "sym"
    assert cell(ion.loads("{{aGk=}}")) == "aGk="
    assert cell(ion.loads("null")) == "null"
    assert cell(ion.loads("false")) == "false"
    assert cell(ion.loads("2019-06-05T10:00:00.000Z")) == "2019-06-05T10:00:00.000Z"


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render([], "xml")


@pytest.mark.parametrize(
    ("count", "seconds", "line"),
    [
        (3, 0.0012, "3 documents in bag, 1.2 ms"),
        (1, None, "1 document in bag"),
        (0, 2.5, "0 documents in bag, 2.50 s"),
    ],
)
def test_summary_line(count: int, seconds: float | None, line: str) -> None:
    assert output.summary(count, seconds) == line
