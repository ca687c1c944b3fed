"""PartiQL operators on values: arithmetic, comparison, logic, IN, LIKE, IS.

Each takes evaluated operands and returns a value; NULL/MISSING propagate as PartiQL
defines and operands of the wrong type give MISSING (permissive mode), never an error
for a row that merely holds an unexpected type.
"""

from __future__ import annotations

import decimal
import functools
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ledger.errors import DataError, ProgrammingError
from ledger.query.values import (
    ABSENT,
    BAG,
    BLOB,
    BOOL,
    CLOB,
    DECIMAL,
    FLOAT,
    INT,
    LIST,
    MISSING,
    MISSING_TYPE,
    NULL,
    NUMBERS,
    SEXP,
    STRING,
    STRUCT,
    SYMBOL,
    TEXTS,
    TIMESTAMP,
    compare,
    equal,
    kind,
    text_of,
)

# Exact sums and products of Ion decimals need more digits than the default 28.
EXACT = decimal.Context(prec=1000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
DIVISION = decimal.Context(prec=38)  # as PartiQL's reference implementation (DECIMAL(38))


def _absent(a: Any, b: Any, ka: str, kb: str) -> Any:
    """The result of an operator with an absent operand: MISSING wins over NULL."""
    if ka == MISSING_TYPE or kb == MISSING_TYPE:
        return MISSING
    return None


def strict(op: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The strict-mode twin of an operator: where ``op`` answers MISSING although no
    operand is MISSING (its permissive answer to a type error), raise instead."""

    @functools.wraps(op)
    def run(*args: Any) -> Any:
        result = op(*args)
        if result is MISSING and not any(a is MISSING for a in args):
            # NULL makes a NULL result, so a None here is an absent optional operand
            kinds = ", ".join(kind(a) for a in args if a is not None and not isinstance(a, bool))
            raise DataError(f"{name} cannot take ({kinds}): a type error in strict mode")
        return result

    return run


# ---------------------------------------------------------------- arithmetic


def _numeric(op: Callable[[Any, Any, str], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(op)
    def run(a: Any, b: Any) -> Any:
        ka, kb = kind(a), kind(b)
        if ka in ABSENT or kb in ABSENT:
            return _absent(a, b, ka, kb)
        if ka not in NUMBERS or kb not in NUMBERS:
            return MISSING
        result_kind = _promote(ka, kb)
        x, y = _as(a, result_kind), _as(b, result_kind)
        return op(x, y, result_kind)

    return run


def _promote(ka: str, kb: str) -> str:
    """The result type: decimal if either is decimal (PartiQL keeps exactness), else
    float if either is float, else int."""
    if DECIMAL in (ka, kb):
        return DECIMAL
    if FLOAT in (ka, kb):
        return FLOAT
    return INT


def _as(value: Any, target: str) -> Any:
    if target == FLOAT:
        return float(value)
    if target == DECIMAL:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise DataError(f"cannot use {value} in decimal arithmetic")
            return Decimal(repr(value))
        return Decimal(value)
    return int(value)


@_numeric
def add(x: Any, y: Any, k: str) -> Any:
    return EXACT.add(x, y) if k == DECIMAL else x + y


@_numeric
def subtract(x: Any, y: Any, k: str) -> Any:
    return EXACT.subtract(x, y) if k == DECIMAL else x - y


@_numeric
def multiply(x: Any, y: Any, k: str) -> Any:
    return EXACT.multiply(x, y) if k == DECIMAL else x * y


@_numeric
def divide(x: Any, y: Any, k: str) -> Any:
    if y == 0 and k != FLOAT:
        raise DataError("division by zero")
    if k == INT:
        quotient = abs(x) // abs(y)
        return quotient if (x >= 0) == (y >= 0) else -quotient
    if k == DECIMAL:
        return DIVISION.divide(x, y)
    if y == 0:
        return math.copysign(math.inf, x) * math.copysign(1.0, y) if x != 0 else math.nan
    return x / y


@_numeric
def modulo(x: Any, y: Any, k: str) -> Any:
    if y == 0 and k != FLOAT:
        raise DataError("division by zero")
    if k == INT:
        remainder = abs(x) % abs(y)
        return remainder if x >= 0 else -remainder
    if k == DECIMAL:
        return EXACT.remainder(x, y)
    return math.fmod(x, y) if y != 0 else math.nan


def negate(value: Any) -> Any:
    k = kind(value)
    if k in ABSENT:
        return MISSING if k == MISSING_TYPE else None
    if k not in NUMBERS:
        return MISSING
    if k == INT:
        return -int(value)
    if k == DECIMAL:
        return -Decimal(value)
    return -float(value)


def positive(value: Any) -> Any:
    k = kind(value)
    if k in ABSENT:
        return MISSING if k == MISSING_TYPE else None
    return value if k in NUMBERS else MISSING


def concat(a: Any, b: Any) -> Any:
    ka, kb = kind(a), kind(b)
    if ka in ABSENT or kb in ABSENT:
        return _absent(a, b, ka, kb)
    if ka not in TEXTS or kb not in TEXTS:
        return MISSING
    return text_of(a) + text_of(b)


# ---------------------------------------------------------------- comparison


def eq(a: Any, b: Any) -> Any:
    return equal(a, b)


def ne(a: Any, b: Any) -> Any:
    return not_(equal(a, b))


def _ordered(test: Callable[[int], bool]) -> Callable[[Any, Any], Any]:
    def run(a: Any, b: Any) -> Any:
        result = compare(a, b)
        if result is None or result is MISSING:
            return result
        return test(result)

    return run


lt = _ordered(lambda c: c < 0)
le = _ordered(lambda c: c <= 0)
gt = _ordered(lambda c: c > 0)
ge = _ordered(lambda c: c >= 0)


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
    "||": concat,
    "=": eq,
    "<>": ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
}


# ---------------------------------------------------------------- logic (3-valued)


def _truth(value: Any) -> Any:
    """True/False for booleans, None for NULL/MISSING, MISSING for other types."""
    k = kind(value)
    if k == BOOL:
        return bool(value)
    if k in ABSENT:
        return None
    return MISSING


def and_(left: Any, right: Callable[[], Any]) -> Any:
    a = _truth(left)
    if a is False:
        return False
    b = _truth(right())
    if b is False:
        return False
    if a is MISSING or b is MISSING:
        return MISSING
    if a is None or b is None:
        return None
    return True


def or_(left: Any, right: Callable[[], Any]) -> Any:
    a = _truth(left)
    if a is True:
        return True
    b = _truth(right())
    if b is True:
        return True
    if a is MISSING or b is MISSING:
        return MISSING
    if a is None or b is None:
        return None
    return False


def not_(value: Any) -> Any:
    t = _truth(value)
    if t is None or t is MISSING:
        return t
    return not t


# ---------------------------------------------------------------- IN, LIKE, IS


def in_(value: Any, collection: Any) -> Any:
    k = kind(value)
    if k == MISSING_TYPE:
        return MISSING
    ck = kind(collection)
    if ck in ABSENT:
        return None if ck == NULL else MISSING
    if ck not in (LIST, SEXP, BAG):
        return MISSING  # the right side of IN must be a collection
    items = collection
    if k == NULL:
        return None
    saw_unknown = False
    for item in items:
        result = equal(value, item)
        if result is True:
            return True
        if result is not False:
            saw_unknown = True
    return None if saw_unknown else False


def scalar_subquery(result: Any) -> Any:
    """SQL's scalar subquery: its one row's one column; MISSING when there is no row."""
    rows = list(result)
    if not rows:
        return MISSING
    if len(rows) > 1:
        raise DataError(f"a subquery used as a value returned {len(rows)} rows, want at most 1")
    row = rows[0]
    if isinstance(row, Mapping):
        return next(iter(row.values()), MISSING)
    return row


def column_values(result: Any) -> Any:
    """`x IN (SELECT a FROM ...)`: the bag of ``a`` values, not of ``{a: ...}`` rows."""
    if kind(result) != BAG:
        return result
    out = []
    for row in result:
        if isinstance(row, Mapping) and len(row) == 1:
            out.append(next(iter(row.values())))
        else:
            out.append(row)
    return out


@functools.lru_cache(maxsize=256)
def like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    parts: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if escape is not None and ch == escape:
            nxt = next(chars, None)
            if nxt is None:
                raise DataError(f"LIKE pattern {pattern!r} ends with its escape character")
            parts.append(re.escape(nxt))
        elif ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def like(value: Any, pattern: Any, escape: Any, has_escape: bool) -> Any:
    kinds = [kind(value), kind(pattern)] + ([kind(escape)] if has_escape else [])
    if MISSING_TYPE in kinds:
        return MISSING
    if NULL in kinds:
        return None
    if any(k not in TEXTS for k in kinds):
        return MISSING
    esc = text_of(escape) if has_escape else None
    if esc is not None and len(esc) != 1:
        raise DataError(f"LIKE ESCAPE must be one character, got {esc!r}")
    return like_regex(text_of(pattern), esc).fullmatch(text_of(value)) is not None


_TYPE_NAMES: dict[str, frozenset[str]] = {
    "int": frozenset({INT}),
    "integer": frozenset({INT}),
    "smallint": frozenset({INT}),
    "bigint": frozenset({INT}),
    "int2": frozenset({INT}),
    "int4": frozenset({INT}),
    "int8": frozenset({INT}),
    "integer2": frozenset({INT}),
    "integer4": frozenset({INT}),
    "integer8": frozenset({INT}),
    "decimal": frozenset({DECIMAL}),
    "numeric": frozenset({DECIMAL}),
    "dec": frozenset({DECIMAL}),
    "float": frozenset({FLOAT}),
    "real": frozenset({FLOAT}),
    "double": frozenset({FLOAT}),
    "string": frozenset({STRING}),
    "varchar": frozenset({STRING}),
    "char": frozenset({STRING}),
    "character": frozenset({STRING}),
    "text": frozenset({STRING}),
    "symbol": frozenset({SYMBOL}),
    "bool": frozenset({BOOL}),
    "boolean": frozenset({BOOL}),
    "timestamp": frozenset({TIMESTAMP}),
    "blob": frozenset({BLOB}),
    "clob": frozenset({CLOB}),
    "list": frozenset({LIST}),
    "array": frozenset({LIST}),
    "sexp": frozenset({SEXP}),
    "struct": frozenset({STRUCT}),
    "tuple": frozenset({STRUCT}),
    "bag": frozenset({BAG}),
}


def type_test(type_name: str) -> Callable[[Any], bool]:
    """The test behind `x IS <type>`; NULL is true for MISSING too, as in PartiQL."""
    if type_name == "null":
        return lambda v: kind(v) in ABSENT
    if type_name == "missing":
        return lambda v: v is MISSING
    kinds = _TYPE_NAMES.get(type_name)
    if kinds is None:
        raise ProgrammingError(f"unknown type {type_name.upper()}")
    return lambda v: kind(v) in kinds


def type_kinds(type_name: str) -> frozenset[str] | None:
    return _TYPE_NAMES.get(type_name)
