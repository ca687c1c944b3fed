"""Golden files for DML and DDL (tests/dialect/golden/*.ion), run on the real ledger.

Each file holds cases ``{name, steps, tables?}``.  A step is
``{statement, params?, result?}`` (the rows it must return: ``$bag::[...]`` in any
order, a plain list in order) or ``{statement, params?, error, message}`` (the error's
class name and a piece of its message: a negative golden).  Every step runs in its own
transaction on a fresh ledger; ``tables`` is each table's user view afterwards.

Generated values are normalized before comparing: every 22-character id (document,
table, index, transaction, strand) becomes ``"<id N>"``, numbered in order of first
appearance, timestamps become ``"<time>"``, hashes ``"<hash>"``.  ``<id N>`` in a
statement, or as a string anywhere inside a parameter, stands for the id numbered N,
so a step can use an id an earlier step returned.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.core import IonType

import ledger
from ledger.ion import dumps_text

GOLDEN = Path(__file__).parent / "golden"
ID = re.compile(r"[0-9A-Za-z]{22}")
PLACEHOLDER = re.compile(r"<id (\d+)>")


def _cases() -> Iterator[Any]:
    for path in sorted(GOLDEN.glob("*.ion")):
        for case in simpleion.loads(path.read_text("utf-8"), single_value=False):
            yield pytest.param(case, id=f"{path.stem}::{case['name']}")


class Ids:
    """Generated ids and their placeholders, numbered in order of first appearance."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def placeholder(self, value: str) -> str:
        number = self.numbers.setdefault(value, len(self.numbers) + 1)
        return f"<id {number}>"

    def actual(self, placeholder: str) -> str:
        match = PLACEHOLDER.fullmatch(placeholder)
        if match is None:
            return placeholder
        wanted = int(match.group(1))
        for value, number in self.numbers.items():
            if number == wanted:
                return value
        raise AssertionError(f"{placeholder} was not returned by an earlier step")


def normalize(value: Any, ids: Ids) -> Any:
    """A result with its generated parts replaced by placeholders."""
    if isinstance(value, dt.datetime):
        return "<time>"
    if getattr(value, "ion_type", None) is IonType.BLOB or isinstance(value, bytes):
        return "<hash>"
    if isinstance(value, str) and getattr(value, "ion_type", None) is not IonType.SYMBOL:
        return ids.placeholder(value) if ID.fullmatch(value) else value
    if isinstance(value, Mapping):
        return {k: normalize(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v, ids) for v in value]
    return value


def bind(value: Any, ids: Ids) -> Any:
    """A golden parameter with ``"<id N>"`` strings replaced by the real ids."""
    if isinstance(value, str) and getattr(value, "ion_type", None) is not IonType.SYMBOL:
        return ids.actual(value)
    if isinstance(value, Mapping):
        return {k: bind(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [bind(v, ids) for v in value]
    return value


def canonical(value: Any, bag: bool = False) -> str:
    """Ion text with struct fields (and, for a bag, elements) in a fixed order."""
    annotations = [getattr(a, "text", a) for a in getattr(value, "ion_annotations", ()) or ()]
    if isinstance(value, Mapping):
        fields = sorted(f"{k}:{canonical(v)}" for k, v in value.items())
        return "{" + ",".join(fields) + "}"
    if isinstance(value, list) and getattr(value, "ion_type", None) is not IonType.SEXP:
        items = [canonical(v) for v in value]
        if bag or "$bag" in annotations:
            return "$bag::[" + ",".join(sorted(items)) + "]"
        return "[" + ",".join(items) + "]"
    return dumps_text(value)


def _run_step(db: Any, step: Mapping[str, Any], ids: Ids) -> None:
    statement = PLACEHOLDER.sub(lambda m: ids.actual(m.group(0)), str(step["statement"]))
    params = [bind(p, ids) for p in step.get("params", [])]
    if "error" in step:
        with pytest.raises(ledger.Error) as info:
            db.execute(statement, *params)
        want = getattr(step["error"], "text", step["error"])
        assert type(info.value).__name__ == want, f"{statement}: {info.value}"
        assert str(step["message"]) in str(info.value), statement
        return
    rows = [normalize(row, ids) for row in db.execute(statement, *params)]
    if "result" in step:
        want = step["result"]
        assert canonical(rows, bag=_is_bag(want)) == canonical(want), statement


def _is_bag(value: Any) -> bool:
    return "$bag" in [getattr(a, "text", a) for a in getattr(value, "ion_annotations", ())]


@pytest.mark.parametrize("case", list(_cases()))
def test_golden(case: Any) -> None:
    ids = Ids()
    with ledger.connect(":memory:") as db:
        for step in case["steps"]:
            _run_step(db, step, ids)
        for table, want in (case.get("tables") or {}).items():
            rows = [normalize(row, ids) for row in db.execute(f'SELECT * FROM "{table}"')]
            assert canonical(rows, bag=True) == canonical(want, bag=True), f"table {table}"


def test_every_golden_file_has_cases() -> None:
    files = sorted(GOLDEN.glob("*.ion"))
    assert files, "no golden files"
    for path in files:
        assert simpleion.loads(path.read_text("utf-8"), single_value=False), path.name
