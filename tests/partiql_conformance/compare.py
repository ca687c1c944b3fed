"""When a result is what the suite expects: Ion values compared as PartiQL values.

Both sides become a canonical hashable form: types are kept apart (an int is not a
decimal), struct fields and bag elements are unordered multisets, lists and
S-expressions keep their order.  Strings and symbols are one text type: the suite
writes PartiQL strings as Ion symbols (``'0'``) in its expected outputs.  Decimals compare by value
(``1.0`` equals ``1.00``: Ion precision is not part of PartiQL's equality), NaN
equals NaN, timestamps compare as instants.  ``$bag::[...]`` is a bag and
``$missing::null`` is MISSING, the suite's conventions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import Any

from ledger.query.values import (
    BAG,
    BLOB,
    BOOL,
    CLOB,
    DECIMAL,
    FLOAT,
    INT,
    LIST,
    MISSING,
    NULL,
    SEXP,
    STRING,
    STRUCT,
    SYMBOL,
    TIMESTAMP,
    instant,
    kind,
    text_of,
)


def same(got: Any, want: Any) -> bool:
    """True when ``got`` (the engine's result) is the suite's expected ``want``."""
    return canonical(got) == canonical(want)


def canonical(value: Any) -> Hashable:
    if value is MISSING or "$missing" in _annotations(value):
        return ("missing",)
    k = kind(value)
    handler = _CANONICAL.get(k)
    if handler is None:
        return (k, repr(value))
    return handler(value)


def _annotations(value: Any) -> list[str]:
    return [str(getattr(a, "text", a)) for a in getattr(value, "ion_annotations", ()) or ()]


def _float(value: Any) -> Hashable:
    number = float(value)
    return (FLOAT, "nan" if math.isnan(number) else number)


_EXACT = decimal.Context(prec=1000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _decimal(value: Any) -> Hashable:
    number = Decimal(value)
    if not number.is_finite():
        return (DECIMAL, str(number))
    return (DECIMAL, _EXACT.plus(number.normalize(_EXACT)) if number else 0)


def _timestamp(value: dt.datetime) -> Hashable:
    fraction = getattr(value, "fractional_seconds", None)
    return (TIMESTAMP, instant(value), Decimal(fraction) if fraction is not None else None)


def _struct(value: Mapping[str, Any]) -> Hashable:
    fields = [(text_of(name), canonical(item)) for name, item in value.items()]
    return (STRUCT, tuple(sorted(fields, key=repr)))


def _sequence(k: str) -> Any:
    def canon(value: Any) -> Hashable:
        items = tuple(canonical(v) for v in value)
        return (k, tuple(sorted(items, key=repr)) if k == BAG else items)

    return canon


_CANONICAL: dict[str, Any] = {
    NULL: lambda v: (NULL,),
    BOOL: lambda v: (BOOL, bool(v)),
    INT: lambda v: (INT, int(v)),
    DECIMAL: _decimal,
    FLOAT: _float,
    TIMESTAMP: _timestamp,
    STRING: lambda v: (STRING, text_of(v)),
    SYMBOL: lambda v: (STRING, text_of(v)),
    BLOB: lambda v: (BLOB, bytes(v)),
    CLOB: lambda v: (CLOB, bytes(v)),
    LIST: _sequence(LIST),
    SEXP: _sequence(SEXP),
    BAG: _sequence(BAG),
    STRUCT: _struct,
}
