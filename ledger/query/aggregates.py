"""Aggregate functions over a group of rows: COUNT, SUM, AVG, MIN, MAX, EVERY, ANY/SOME.

NULL and MISSING inputs are skipped (COUNT(*) counts rows); over no values COUNT is 0
and the others are NULL, as in SQL and PartiQL.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ledger.errors import DataError
from ledger.query import ast, operators
from ledger.query.env import Env
from ledger.query.values import ABSENT, BOOL, FLOAT, NUMBERS, group_key, kind, sort_key


def compute(call: ast.Call, arg: Callable[[Env], Any] | None, rows: list[Env]) -> Any:
    """The value of one aggregate call over one group."""
    if arg is None:
        return len(rows)
    values = [v for v in (arg(row) for row in rows) if kind(v) not in ABSENT]
    if call.distinct:
        values = _distinct(values)
    return _AGGREGATES[call.name](values)


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
            raise DataError(f"{name} needs numbers, got {kind(value)}")
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
    total = _sum(values)
    if kind(total) == FLOAT:
        return total / len(values)
    return operators.DIVISION.divide(Decimal(total), Decimal(len(values)))


def _booleans(values: list[Any], name: str) -> list[bool]:
    for value in values:
        if kind(value) != BOOL:
            raise DataError(f"{name} needs booleans, got {kind(value)}")
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
