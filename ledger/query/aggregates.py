"""Aggregate functions: COUNT, SUM, AVG, MIN, MAX, EVERY, ANY/SOME over a group of rows
(SQL aggregates) or over one collection value (``COLL_SUM([1, 2])`` and friends).

NULL and MISSING inputs are skipped (COUNT(*) counts rows); over no values COUNT is 0
and the others are NULL, as in SQL and PartiQL.  A value of the wrong type (SUM of a
string) makes the aggregate MISSING in permissive mode and raises in strict mode.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ledger.errors import DataError
from ledger.query import ast, operators
from ledger.query.env import Env
from ledger.query.values import (
    ABSENT,
    BAG,
    BOOL,
    FLOAT,
    LIST,
    MISSING,
    MISSING_TYPE,
    NULL,
    NUMBERS,
    SEXP,
    group_key,
    kind,
    sort_key,
)


class _Mismatch(Exception):
    """An aggregated value of the wrong type (internal: becomes MISSING or DataError)."""


def compute(
    call: ast.Call, arg: Callable[[Env], Any] | None, rows: list[Env], strict: bool = False
) -> Any:
    """The value of one SQL aggregate call over one group."""
    if arg is None:
        return len(rows)
    return over_values(call.name, [arg(row) for row in rows], call.distinct, strict)


def over_collection(name: str, value: Any, distinct: bool, strict: bool = False) -> Any:
    """``COLL_<name>(value)``: the aggregate over one collection's elements; NULL for
    NULL, MISSING for MISSING, and a type error for anything but a collection."""
    k = kind(value)
    if k == MISSING_TYPE:
        return MISSING
    if k == NULL:
        return None
    if k not in (LIST, SEXP, BAG):
        if strict:
            raise DataError(f"COLL_{name.upper()} needs a collection, got {k}")
        return MISSING
    return over_values(name, list(value), distinct, strict)


def over_values(name: str, values: list[Any], distinct: bool, strict: bool) -> Any:
    present = [v for v in values if kind(v) not in ABSENT]
    if distinct:
        present = _distinct(present)
    try:
        return _AGGREGATES[name](present)
    except _Mismatch as exc:
        if strict:
            raise DataError(str(exc)) from None
        return MISSING


def _distinct(values: list[Any]) -> list[Any]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for value in values:
        key = group_key(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _numbers(values: list[Any], name: str) -> list[Any]:
    for value in values:
        if kind(value) not in NUMBERS:
            raise _Mismatch(f"{name} needs numbers, got {kind(value)}")
    return values


def _sum(values: list[Any]) -> Any:
    if not values:
        return None
    total: Any = 0
    for value in _numbers(values, "SUM"):
        total = operators.add(total, value)
    return total


def _avg(values: list[Any]) -> Any:
    if not values:
        return None
    total = _sum(_numbers(values, "AVG"))
    if kind(total) == FLOAT:
        return total / len(values)
    return operators.DIVISION.divide(Decimal(total), Decimal(len(values)))


def _booleans(values: list[Any], name: str) -> list[bool]:
    for value in values:
        if kind(value) != BOOL:
            raise _Mismatch(f"{name} needs booleans, got {kind(value)}")
    return [bool(v) for v in values]


def _every(values: list[Any]) -> Any:
    return all(_booleans(values, "EVERY")) if values else None


def _any(values: list[Any]) -> Any:
    return any(_booleans(values, "ANY/SOME")) if values else None


def _min(values: list[Any]) -> Any:
    return min(values, key=sort_key) if values else None


def _max(values: list[Any]) -> Any:
    return max(values, key=sort_key) if values else None


_AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "count": len,
    "sum": _sum,
    "avg": _avg,
    "min": _min,
    "max": _max,
    "every": _every,
    "any": _any,
    "some": _any,
}
