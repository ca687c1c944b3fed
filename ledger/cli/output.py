"""Formatters: a bag of Ion values -> text, one function per output format.

``ion`` is pretty Ion text as the QLDB shell showed it (a valid Ion stream: it loads
back with ``ion.loads_all``; non-ASCII text unescaped on a UTF-8 terminal); ``json`` is
one array and ``jsonl`` one value per line (both through ``json_text.dumps_json``:
decimals exact, timestamps as Ion text); ``table``, ``csv`` and ``vertical`` flatten nested structs into dotted columns (``Owner.Name``) and show lists as
compact Ion.  Every formatter returns text ending in a newline, or "" for no rows.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType
from amazon.ion.exceptions import IonException

from ledger import ion
from ledger.errors import DataError
from ledger.json_text import dumps_json

SCALAR_COLUMN = "value"  # the column of a bag of non-structs (SELECT VALUE)


def ion_pretty(value: Any, *, utf8: bool | None = None) -> str:
    """One value as indented Ion text (QLDB shell style: ``{\\n  VIN: "…",\\n …}``);
    non-ASCII characters of strings and symbols written as themselves, not escaped,
    when ``utf8`` (default: when standard output is UTF-8)."""
    try:
        text: str = simpleion.dumps(value, binary=False, omit_version_marker=True, indent="  ")
    except (IonException, TypeError, ValueError) as exc:
        raise DataError(f"cannot show {type(value).__name__} as Ion: {exc}") from exc
    if stdout_is_utf8() if utf8 is None else utf8:
        text = unescape_non_ascii(text)
    return text


def stdout_is_utf8() -> bool:
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "_")
    return encoding in ("utf8", "utf_8")


# Ion text's quoted tokens: a clob (its bytes stay escaped: a clob holds no raw
# non-ASCII), a string, a long string, a quoted symbol or field name.
_QUOTED = re.compile(
    r"(?P<clob>\{\{\s*(?:\"(?:[^\"\\]|\\.)*\"|'''(?:[^\\]|\\.)*?''')\s*\}\})"
    r"|\"(?:[^\"\\]|\\.)*\"|'''(?:[^\\]|\\.)*?'''|'(?:[^'\\]|\\.)*'",
    re.S,
)
_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))|\\.", re.S)


def unescape_non_ascii(text: str) -> str:
    """Ion text with the ``\\xe9``, ``\\u2603``, ``\\U0001f600`` escapes of printable
    non-ASCII characters in strings and symbols replaced by the characters: the same
    Ion value, readable."""
    return _QUOTED.sub(_unescape_token, text)


def _unescape_token(match: re.Match[str]) -> str:
    if match.group("clob"):
        return match.group(0)
    return _ESCAPE.sub(_unescape_one, match.group(0))


def _unescape_one(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is None:
        return match.group(0)  # any other escape (\n, \", \\ ...) stays
    code = int(digits, 16)
    if code < 0xA0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF or not chr(code).isprintable():
        return match.group(0)
    return chr(code)


def format_ion(rows: Sequence[Any]) -> str:
    utf8 = stdout_is_utf8()
    return "".join(ion_pretty(row, utf8=utf8) + "\n" for row in rows)


def format_json(rows: Sequence[Any]) -> str:
    """One JSON array; decimals exact (``42000.00``), timestamps as Ion text writes them."""
    if not rows:
        return "[]\n"
    return dumps_json(list(rows), indent=2) + "\n"


def format_jsonl(rows: Sequence[Any]) -> str:
    return "".join(dumps_json(r) + "\n" for r in rows)


# -- flattening, for the tabular formats ---------------------------------------------
def is_struct(value: Any) -> bool:
    return ion.ion_type_of(value) is IonType.STRUCT and not ion.is_null(value)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A struct's leaves by dotted path; a non-struct row is one ``value`` column."""
    if not is_struct(value):
        return {prefix or SCALAR_COLUMN: value}
    flat: dict[str, Any] = {}
    for key, child in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if is_struct(child) and len(child) > 0:
            flat.update(flatten(child, path))
        else:
            flat[path] = child
    return flat


def cell(value: Any) -> str:
    """One leaf as a person reads it: strings bare, numbers plain, nested as compact Ion."""
    if ion.is_null(value):
        return "null"
    kind = ion.ion_type_of(value)
    if kind is IonType.STRING:
        return str(value)
    if kind is IonType.SYMBOL:
        return ion.text_of(value)
    if kind is IonType.BOOL:
        return "true" if value else "false"
    if kind is IonType.INT:
        return str(int(value))
    if kind is IonType.DECIMAL:
        return str(Decimal(value))
    if kind is IonType.FLOAT:
        return repr(float(value))
    if kind in (IonType.BLOB, IonType.CLOB):
        return str(ion.to_json(value))
    return ion.dumps_text(value)


def table_data(rows: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    """Column names (first-seen order) and each row's cells ("" where a row lacks one)."""
    flats = [flatten(r) for r in rows]
    columns: dict[str, None] = {}
    for flat in flats:
        columns.update(dict.fromkeys(flat))
    names = list(columns)
    return names, [[cell(f[c]) if c in f else "" for c in names] for f in flats]


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: East Asian wide and fullwidth characters take
    two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_table(rows: Sequence[Any]) -> str:
    if not rows:
        return ""
    names, cells = table_data(rows)
    cells = [[_one_line(c) for c in row] for row in cells]
    widths = [
        max([display_width(n), *(display_width(row[i]) for row in cells)])
        for i, n in enumerate(names)
    ]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(_pad(v, w) for v, w in zip(values, widths, strict=True)) + " |"

    body = [line(row) for row in cells]
    return "\n".join([rule, line(names), rule, *body, rule]) + "\n"


def format_csv(rows: Sequence[Any]) -> str:
    if not rows:
        return ""
    names, cells = table_data(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(cells)
    return buf.getvalue()


def format_vertical(rows: Sequence[Any]) -> str:
    """psql's expanded display: one ``name | value`` block per row."""
    blocks = []
    for number, row in enumerate(rows, 1):
        flat = flatten(row)
        width = max((display_width(k) for k in flat), default=0)
        lines = [f"{_pad(k, width)} | {_one_line(cell(v))}" for k, v in flat.items()]
        header = f"-[ RECORD {number} ]".ljust(max(display_width(x) for x in lines), "-")
        blocks.append("\n".join([header, *lines]))
    return "".join(b + "\n" for b in blocks)


FORMATTERS: dict[str, Callable[[Sequence[Any]], str]] = {
    "ion": format_ion,
    "json": format_json,
    "jsonl": format_jsonl,
    "table": format_table,
    "csv": format_csv,
    "vertical": format_vertical,
}
FORMATS = tuple(FORMATTERS)
# Formats meant for people (\x switches these to vertical); the rest are for programs.
HUMAN_FORMATS = ("ion", "table", "vertical")


def render(rows: Sequence[Any], fmt: str) -> str:
    """``rows`` in format ``fmt`` (one of FORMATS)."""
    try:
        formatter = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return formatter(rows)


def summary(count: int, seconds: float | None) -> str:
    """The line after a result: ``3 documents in bag, 1.2 ms``."""
    noun = "document" if count == 1 else "documents"
    text = f"{count} {noun} in bag"
    if seconds is not None:
        text += ", " + elapsed(seconds)
    return text


def elapsed(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"
