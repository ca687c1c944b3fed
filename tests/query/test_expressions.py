"""Operators and functions, with PartiQL's NULL/MISSING rules.

Expected values for the date/time functions are the QLDB Developer Guide's examples
(DATE_ADD, DATE_DIFF, EXTRACT, TO_STRING, TO_TIMESTAMP reference pages).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.core import IonType

from ledger.errors import DataError, ProgrammingError
from ledger.ion import dumps_text, ion_type_of
from ledger.query import execute


def one(ctx: Any, expr: str, *params: Any) -> Any:
    """The Ion value of one expression."""
    (value,) = execute(ctx, f"SELECT VALUE {expr} FROM << 0 >>", params)
    return value


def text(ctx: Any, expr: str, *params: Any) -> str:
    return dumps_text(one(ctx, expr, *params))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2", "3"),
        ("1 + 2.50", "3.50"),
        ("1 + 1e0", "2d0"),  # 1e0 is a decimal in QLDB's PartiQL
        ("1 + `1e0`", "2e+0"),  # a float only as an Ion literal
        ("1.1 * 3", "3.3"),
        ("7 / 2", "3"),
        ("-7 / 2", "-3"),
        ("7 % 3", "1"),
        ("-7 % 3", "-1"),
        ("1.0 / 4", "0.25"),
        ("1 / `4e0`", "0.25e+0"),
        ("-(2)", "-2"),
        ("'a' || 'b'", '"ab"'),
        ("`sym` || 'b'", '"symb"'),
        ("1 + NULL", "null"),
        ("1 + MISSING", "$missing::null"),
        ("NULL + MISSING", "$missing::null"),
        ("1 + 'a'", "$missing::null"),
        ("1 = 1.0", "true"),
        ("1 = 1e0", "true"),
        ("'a' = `a`", "true"),
        ("5 = 'a'", "false"),
        ("1 <> 2", "true"),
        ("1 != 1", "false"),
        ("NULL = 1", "null"),
        ("NULL = MISSING", "null"),
        ("MISSING = MISSING", "$missing::null"),
        ("5 > 'a'", "$missing::null"),
        ("2 < 3.5", "true"),
        ("'abc' < 'abd'", "true"),
        ("`2020-01-01T` < `2020-01-02T00:00Z`", "true"),
        ("`2020-01-01T00:00Z` = `2020-01-01T`", "true"),
        ("true AND NULL", "null"),
        ("false AND NULL", "false"),
        ("false AND MISSING", "false"),
        ("true OR MISSING", "true"),
        ("false OR NULL", "null"),
        ("NOT NULL", "null"),
        ("NOT MISSING", "null"),
        ("NOT true", "false"),
        ("2 BETWEEN 1 AND 3", "true"),
        ("2 NOT BETWEEN 1 AND 3", "false"),
        ("NULL BETWEEN 1 AND 3", "null"),
        ("2 IN (1, 2, 3)", "true"),
        ("4 IN (1, 2, 3)", "false"),
        ("4 IN (1, NULL)", "null"),
        ("NULL IN (1, 2)", "null"),
        ("4 NOT IN (1, 2)", "true"),
        ("2 IN [1, 2]", "true"),
        ("2 IN <<2>>", "true"),
        ("'abc' LIKE 'a%'", "true"),
        ("'abc' LIKE 'a_c'", "true"),
        ("'abc' LIKE 'b%'", "false"),
        ("'a%c' LIKE 'a!%c' ESCAPE '!'", "true"),
        ("'abc' LIKE 'a!%c' ESCAPE '!'", "false"),
        ("'abc' NOT LIKE 'x%'", "true"),
        ("NULL LIKE 'a'", "null"),
        ("1 LIKE 'a'", "$missing::null"),
        ("NULL IS NULL", "true"),
        ("MISSING IS NULL", "true"),
        ("MISSING IS MISSING", "true"),
        ("NULL IS MISSING", "false"),
        ("1 IS NOT NULL", "true"),
        ("1 IS INT", "true"),
        ("1.5 IS DECIMAL", "true"),
        ("'a' IS STRING", "true"),
        ("`a` IS SYMBOL", "true"),
        ("[1] IS LIST", "true"),
        ("{'a': 1} IS STRUCT", "true"),
        ("<<1>> IS BAG", "true"),
        ("`2020T` IS TIMESTAMP", "true"),
        ("1 IS NOT STRING", "true"),
        ("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END", '"b"'),
        ("CASE WHEN false THEN 1 END", "null"),
        ("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", '"two"'),
        ("CASE NULL WHEN NULL THEN 'x' ELSE 'y' END", '"y"'),
    ],
)
def test_operators(ctx: Any, expr: str, expected: str) -> None:
    assert text(ctx, expr) == expected


def test_in_forms(ctx: Any) -> None:
    assert text(ctx, "2 IN ?", [1, 2]) == "true"
    assert text(ctx, "2 IN (?)", 2) == "true"  # `(e)` is the one-element list [e]
    assert text(ctx, "2 IN (?)", [1, 2]) == "false"  # ... so a list inside is one element
    assert text(ctx, "2 IN 2") == "$missing::null"  # the right side must be a collection
    assert text(ctx, "2 IN (SELECT VALUE v FROM [1, 2] AS v)") == "true"
    assert text(ctx, "2 IN (SELECT x.a FROM [{'a': 2}] AS x)") == "true"


def test_division_by_zero(ctx: Any) -> None:
    with pytest.raises(DataError, match="division by zero"):
        one(ctx, "1 / 0")
    with pytest.raises(DataError, match="division by zero"):
        one(ctx, "1.0 % 0")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("SIZE([1, 2, 3])", "3"),
        ("CARDINALITY(<<1, 2>>)", "2"),
        ("SIZE({'a': 1})", "1"),
        ("SIZE(1)", "$missing::null"),
        ("SIZE(NULL)", "null"),
        ("COALESCE(NULL, MISSING, 2, 3)", "2"),
        ("COALESCE(NULL, NULL)", "null"),
        ("NULLIF(1, 1)", "null"),
        ("NULLIF(1, 2)", "1"),
        ("EXISTS([1])", "true"),
        ("EXISTS([])", "false"),
        ("EXISTS(<<>>)", "false"),
        ("CHAR_LENGTH('héllo')", "5"),
        ("CHARACTER_LENGTH('')", "0"),
        ("CHAR_LENGTH(NULL)", "null"),
        ("LOWER('AbC')", '"abc"'),
        ("UPPER('AbC')", '"ABC"'),
        ("UPPER(MISSING)", "$missing::null"),
        ("SUBSTRING('123456789', 2)", '"23456789"'),
        ("SUBSTRING('123456789', 2, 3)", '"234"'),
        ("SUBSTRING('123456789' FROM 2 FOR 3)", '"234"'),
        ("SUBSTRING('123456789', -2, 5)", '"12"'),
        ("SUBSTRING('123456789', 0)", '"123456789"'),
        ("TRIM('  x  ')", '"x"'),
        ("TRIM(LEADING FROM '  x  ')", '"x  "'),
        ("TRIM(TRAILING FROM '  x  ')", '"  x"'),
        ("TRIM(BOTH 'xy' FROM 'xyaxy')", '"a"'),
        ("TRIM('x' FROM 'xax')", '"a"'),
        ("ABS(-2.5)", "2.5"),
        ("CAST(1.9 AS INT)", "1"),
        ("CAST(-1.9 AS INT)", "-1"),
        ("CAST('42' AS INT)", "42"),
        ("CAST(true AS INT)", "1"),
        ("CAST(1 AS DECIMAL)", "1d0"),
        ("CAST('1.50' AS DECIMAL)", "1.50"),
        ("CAST(1.555 AS DECIMAL(5, 2))", "1.56"),
        ("CAST(1 AS FLOAT)", "1e+0"),
        ("CAST(1.5 AS STRING)", '"1.5"'),
        ("CAST(`sym` AS STRING)", '"sym"'),
        ("CAST('s' AS SYMBOL)", "s"),
        ("CAST('TRUE' AS BOOL)", "true"),
        ("CAST(0 AS BOOLEAN)", "false"),
        ("CAST('2019-06-05T' AS TIMESTAMP)", "2019-06-05"),
        ("CAST(`2019-06-05T` AS STRING)", '"2019-06-05"'),
        ("CAST(NULL AS INT)", "null"),
        ("CAST(MISSING AS INT)", "$missing::null"),
        ("CAST([1] AS BAG)", "$bag::[1]"),
        ("CAST(1 AS VARCHAR)", '"1"'),
        ("CAST(2 AS DOUBLE PRECISION)", "2e+0"),
    ],
)
def test_functions(ctx: Any, expr: str, expected: str) -> None:
    assert text(ctx, expr) == expected


def test_bad_cast(ctx: Any) -> None:
    with pytest.raises(DataError, match="cannot cast"):
        one(ctx, "CAST('abc' AS INT)")
    with pytest.raises(ProgrammingError, match="unknown type"):
        one(ctx, "CAST(1 AS WIDGET)")


def test_unknown_function_is_named(ctx: Any) -> None:
    with pytest.raises(ProgrammingError, match="unknown function FROBNICATE") as info:
        one(ctx, "FROBNICATE(1)")
    assert info.value.line == 1


def test_wrong_arity(ctx: Any) -> None:
    with pytest.raises(ProgrammingError, match="UPPER takes 1 argument"):
        one(ctx, "UPPER('a', 'b')")


def test_utcnow_and_txid_come_from_the_context(ctx: Any) -> None:
    assert one(ctx, "UTCNOW()") == ctx.now()
    assert ion_type_of(one(ctx, "UTCNOW()")) is IonType.TIMESTAMP
    assert str(one(ctx, "TXID()")) == ctx.transaction_id


# ---------------------------------------------------------------- dates (QLDB guide examples)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("DATE_ADD(year, 5, `2010-01-01T`)", "2015-01-01"),
        ("DATE_ADD(month, 1, `2010T`)", "2010-02T"),
        ("DATE_ADD(month, 13, `2010T`)", "2011-02T"),
        ("DATE_ADD(day, -1, `2017-01-10T`)", "2017-01-09"),
        ("DATE_ADD(hour, 1, `2017T`)", "2017-01-01T01:00-00:00"),
        ("DATE_ADD(hour, 1, `2017-01-02T03:04Z`)", "2017-01-02T04:04Z"),
        ("DATE_ADD(minute, 1, `2017-01-02T03:04:05.006Z`)", "2017-01-02T03:05:05.006Z"),
        ("DATE_ADD(second, 1, `2017-01-02T03:04:05.006Z`)", "2017-01-02T03:04:06.006Z"),
        ("DATE_ADD(month, 1, `2017-01-31T`)", "2017-02-28"),
        ("DATE_DIFF(year, `2010-01-01T`, `2011-01-01T`)", "1"),
        ("DATE_DIFF(year, `2010T`, `2010-05T`)", "0"),
        ("DATE_DIFF(month, `2010T`, `2011T`)", "12"),
        ("DATE_DIFF(month, `2011T`, `2010T`)", "-12"),
        ("DATE_DIFF(month, `2010T`, `2010-05T`)", "4"),
        ("DATE_DIFF(day, `2010-01-01T23:00Z`, `2010-01-02T01:00Z`)", "0"),
        ("DATE_DIFF(hour, `2010-01-01T23:00Z`, `2010-01-02T01:00Z`)", "2"),
        ("EXTRACT(YEAR FROM `2010-01-01T`)", "2010"),
        ("EXTRACT(MONTH FROM `2010T`)", "1"),
        ("EXTRACT(MONTH FROM `2010-10T`)", "10"),
        ("EXTRACT(HOUR FROM `2017-01-02T03:04:05+07:08`)", "3"),
        ("EXTRACT(MINUTE FROM `2017-01-02T03:04:05+07:08`)", "4"),
        ("EXTRACT(TIMEZONE_HOUR FROM `2017-01-02T03:04:05+07:08`)", "7"),
        ("EXTRACT(TIMEZONE_MINUTE FROM `2017-01-02T03:04:05+07:08`)", "8"),
        ("EXTRACT(SECOND FROM `2017-01-02T03:04:05.5Z`)", "5.5"),
        ("EXTRACT(SECOND FROM `2017-01-02T03:04:05Z`)", "5"),
        ("EXTRACT(YEAR FROM NULL)", "null"),
        ("TO_STRING(`1969-07-20T20:18Z`, 'MMMM d, y')", '"July 20, 1969"'),
        ("TO_STRING(`1969-07-20T20:18Z`, 'MMM d, yyyy')", '"Jul 20, 1969"'),
        ("TO_STRING(`1969-07-20T20:18Z`, 'M-d-yy')", '"7-20-69"'),
        ("TO_STRING(`1969-07-20T20:18Z`, 'MM-d-y')", '"07-20-1969"'),
        ("TO_STRING(`1969-07-20T20:18Z`, 'MMMM d, y h:m a')", '"July 20, 1969 8:18 PM"'),
        ("TO_STRING(`1969-07-20T20:18Z`, 'y-MM-dd''T''H:m:ssX')", '"1969-07-20T20:18:00Z"'),
        (
            "TO_STRING(`1969-07-20T20:18+08:00`, 'y-MM-dd''T''H:m:ssXXXX')",
            '"1969-07-20T20:18:00+0800"',
        ),
        (
            "TO_STRING(`1969-07-20T20:18+08:00`, 'y-MM-dd''T''H:m:ssXXXXX')",
            '"1969-07-20T20:18:00+08:00"',
        ),
        (
            "TO_STRING(`1969-07-20T20:18:01.123Z`, 'HH:mm:ss.SSS x xx xxx X')",
            '"20:18:01.123 +00 +0000 +00:00 Z"',
        ),
        ("TO_STRING(`1969-07-20T08:05-07:30`, 'hh:mm a XXX')", '"08:05 AM -07:30"'),
        ("TO_TIMESTAMP('2007T')", "2007T"),
        ("TO_TIMESTAMP('2007-02-23T12:14:33.079-08:00')", "2007-02-23T12:14:33.079-08:00"),
        ("TO_TIMESTAMP('2016', 'y')", "2016T"),
        ("TO_TIMESTAMP('2016', 'yyyy')", "2016T"),
        ("TO_TIMESTAMP('02-2016', 'MM-yyyy')", "2016-02T"),
        ("TO_TIMESTAMP('Feb 2016', 'MMM yyyy')", "2016-02T"),
        ("TO_TIMESTAMP('February 2016', 'MMMM yyyy')", "2016-02T"),
        ("TO_TIMESTAMP('2016-02-06T12:00:00Z', 'y-MM-dd''T''HH:mm:ssX')", "2016-02-06T12:00:00Z"),
        ("TO_TIMESTAMP('7/20/69 8:18 PM +0800', 'M/d/yy h:m a xx')", "1969-07-20T20:18+08:00"),
    ],
)
def test_datetime_functions(ctx: Any, expr: str, expected: str) -> None:
    assert text(ctx, expr) == expected


def test_date_add_keeps_offset_and_precision(ctx: Any) -> None:
    value = one(ctx, "DATE_ADD(day, 1, `2020-01-01T10:00:00.123+05:00`)")
    assert dumps_text(value) == "2020-01-02T10:00:00.123+05:00"


def test_timestamp_errors(ctx: Any) -> None:
    with pytest.raises(DataError):
        one(ctx, "DATE_ADD(fortnight, 1, `2020T`)")
    with pytest.raises(DataError):
        one(ctx, "TO_TIMESTAMP('nope')")
    with pytest.raises(DataError):
        one(ctx, "TO_TIMESTAMP('2016', 'MM')")
    with pytest.raises(DataError):
        one(ctx, "EXTRACT(YEAR FROM 1)")


# ---------------------------------------------------------------- values and parameters


def test_parameters_are_bound_not_spliced(ctx: Any) -> None:
    assert str(one(ctx, "?", "x' OR '1' = '1")) == "x' OR '1' = '1"


def test_ion_parameters_keep_types(ctx: Any) -> None:
    value = simpleion.loads("{a: 1.50, b: sym, c: 2020-01-01T00:00:00.000Z}")
    row = one(ctx, "?", value)
    assert dumps_text(row) == "{a:1.50,b:sym,c:2020-01-01T00:00:00.000Z}"


def test_struct_and_collection_constructors(ctx: Any) -> None:
    assert text(ctx, "{'a': 1, 'b': MISSING, 'c': NULL}") == "{a:1,c:null}"
    assert text(ctx, "[1, <<2>>]") == "[1,$bag::[2]]"
    with pytest.raises(DataError, match="field name"):
        one(ctx, "{1: 2}")


def test_path_edge_cases(ctx: Any) -> None:
    assert text(ctx, "[1, 2][5]") == "$missing::null"
    assert text(ctx, "[1, 2][-1]") == "$missing::null"
    assert text(ctx, "{'a': 1}.b") == "$missing::null"
    assert text(ctx, "{'a': {'b': 2}}['a']['b']") == "2"
    assert text(ctx, "{'a': [{'b': 1}, {'b': 2}]}.a[*].b") == "$bag::[1,2]"
    assert text(ctx, "{'a': 1, 'b': 2}.*") == "$bag::[1,2]"
    assert text(ctx, "(1).a") == "$missing::null"


def test_decimal_precision_is_kept(ctx: Any) -> None:
    assert text(ctx, "1.10 + 2.205") == "3.305"
    assert text(ctx, "0.1 + 0.2") == "0.3"
    assert one(ctx, "123456789012345678901234567890.5 + 1") == Decimal(
        "123456789012345678901234567891.5"
    )
