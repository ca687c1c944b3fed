"""Records from files: JSON Lines, a JSON array, an Ion stream, or CSV with a header.

Each reader yields ``Record``s in file order and raises ``BadRecordError`` (file,
line, reason) at the first record that cannot become a document; the records before
it have already been yielded.  Bytes that are not UTF-8 are an error naming the byte
offset: text is never decoded with replacement characters.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from ledger.errors import BadRecordError, DataError

FORMATS = ("jsonl", "json", "ion", "csv")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".ion": "ion",
    ".10n": "ion",
    ".csv": "csv",
}
_ION_BVM = b"\xe0\x01\x00\xea"


@dataclass(frozen=True)
class Record:
    file: str
    line: int  # where the record starts, from 1 (0 for Ion: see number)
    value: Mapping[str, Any]
    number: int = 0  # for Ion, the value's position in the stream, from 1


def format_of(path: str) -> str:
    """The format a file's extension names; DataError when it names none."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in _EXTENSIONS:
        raise DataError(
            f"cannot tell the format of {path} from its name: pass --format ({'|'.join(FORMATS)})"
        )
    return _EXTENSIONS[ext]


def read(path: str, fmt: str, *, strings: bool = False) -> Iterator[Record]:
    """The records of the file at ``path`` (``strings``: CSV cells stay strings)."""
    try:
        with open(path, "rb") as fp:
            if fmt == "jsonl":
                yield from _json_lines(path, fp)
            elif fmt == "json":
                yield from _json_array(path, _text(path, fp.read()))
            elif fmt == "ion":
                yield from _ion(path, fp.read())
            elif fmt == "csv":
                yield from _csv(path, _text(path, fp.read()), strings)
            else:
                raise DataError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc


# -- text -----------------------------------------------------------------------------------
def _text(path: str, data: bytes, base: int = 0, line: int = 0) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = base + exc.start
        where = line or data.count(b"\n", 0, exc.start) + 1
        raise BadRecordError(
            path, where, f"not UTF-8: byte 0x{data[exc.start]:02x} at byte offset {at}"
        ) from exc


def _document(path: str, line: int, value: Any, *, what: str, value_no: int = 0) -> Record:
    if not isinstance(value, Mapping):
        raise BadRecordError(
            path, line, f"a document must be {what}, not {_kind(value)}", value=value_no
        )
    return Record(path, line, value, value_no)


def _kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__.lower()} ({value!r:.40})"


# -- JSON ----------------------------------------------------------------------------------
def _json_lines(path: str, fp: IO[bytes]) -> Iterator[Record]:
    offset = 0
    for number, raw in enumerate(fp, 1):
        text = _text(path, raw, offset, number)
        offset += len(raw)
        if not text.strip():
            continue
        try:
            value = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise BadRecordError(path, number, f"not JSON: {exc.msg} (column {exc.colno})") from exc
        yield _document(path, number, value, what="a JSON object")


_SPACE = re.compile(r"\s*")


class _Lines:
    """Line numbers of positions in ``text``, for positions that only move forward."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _json_array(path: str, text: str) -> Iterator[Record]:
    decoder = json.JSONDecoder(parse_float=Decimal)
    lines = _Lines(text)
    pos = _SPACE.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        raise BadRecordError(path, lines.at(pos), "a JSON file must hold one array of objects")
    pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        return
    while True:
        line = lines.at(pos)
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise BadRecordError(
                path, exc.lineno, f"not JSON: {exc.msg} (column {exc.colno})"
            ) from exc
        yield _document(path, line, value, what="a JSON object")
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            return
        if not text.startswith(",", pos):
            raise BadRecordError(path, lines.at(pos), "expected , or ] after an array element")
        pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]


# -- Ion -------------------------------------------------------------------------------------
def _ion(path: str, data: bytes) -> Iterator[Record]:
    from amazon.ion import simpleion
    from amazon.ion.exceptions import IonException

    if not data.startswith(_ION_BVM):
        _text(path, data)  # not UTF-8: say where, before the Ion reader guesses
    values = simpleion.load(io.BytesIO(data), single_value=False, parse_eagerly=False)
    number = 0
    while True:
        number += 1
        try:
            value = next(values)
        except StopIteration:
            return
        except (IonException, ValueError, TypeError) as exc:
            raise BadRecordError(path, 0, f"not Ion: {exc}", value=number) from exc
        yield _document(path, 0, value, what="an Ion struct", value_no=number)


# -- CSV -------------------------------------------------------------------------------------
_ION_START = re.compile(r"""[-+0-9"'\[{(]|true$|false$|null(\.[a-z]+)?$|nan$""")


def typed_cell(cell: str) -> Any:
    """A CSV cell as the shell reads a value: Ion text when it is a number, timestamp,
    bool, null, quoted string, list or struct; otherwise the cell as a string."""
    if not _ION_START.match(cell):
        return cell
    from ledger import ion

    try:
        value = ion.loads(cell)
    except DataError:
        return cell
    return cell if type(value).__name__ == "SymbolToken" else value


def _csv(path: str, text: str, strings: bool) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise BadRecordError(path, 1, f"not CSV: {exc}") from exc
    convert: Callable[[str], Any] = str if strings else typed_cell
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadRecordError(path, start, f"not CSV: {exc}") from exc
        if row:
            yield Record(path, start, _row(path, start, header, row, convert, strings))
        start = reader.line_num + 1


def _row(
    path: str,
    line: int,
    header: list[str],
    row: list[str],
    convert: Callable[[str], Any],
    strings: bool,
) -> dict[str, Any]:
    if len(row) != len(header):
        raise BadRecordError(
            path, line, f"the row has {len(row)} cells but the header names {len(header)} fields"
        )
    return {
        name: convert(cell) for name, cell in zip(header, row, strict=True) if strings or cell != ""
    }
