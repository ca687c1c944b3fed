"""JSON text of Ion values that keeps numbers exact.

``json.dumps(ion.to_json(v))`` turns a decimal into a Python float: ``42000.00`` became
``42000.0`` and ``12345678901234567890.123456789`` lost its last digits.  Here a decimal
is written as the JSON number its Ion digits spell (``42000.00``, ``1.5E+3``), an int
as its digits, a timestamp as the string Ion text writes (``"2017-01-01T01:00Z"``,
precision and offset kept), blobs and clobs as base64, symbols as strings, nan and
infinities as null (JSON has none), annotations dropped: QLDB's down-conversion to
JSON, without its rounding.  Layout follows ``json.dumps``: ``indent`` spaces per
level, or one line with ``", "`` and ``": "`` separators.
"""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from typing import Any

from amazon.ion.core import IonType

from ledger import ion


def dumps_json(value: Any, *, indent: int | None = None) -> str:
    """``value`` (an Ion value, or a list of them) as JSON text; non-ASCII stays as is."""
    out: list[str] = []
    _write(value, out, indent, 0)
    return "".join(out)


def _write(value: Any, out: list[str], indent: int | None, level: int) -> None:
    if ion.is_null(value):
        out.append("null")
        return
    kind = ion.ion_type_of(value)
    if kind is IonType.STRUCT:
        items = [(json.dumps(str(k), ensure_ascii=False) + ": ", v) for k, v in value.items()]
        _container("{", "}", items, out, indent, level)
    elif kind in (IonType.LIST, IonType.SEXP):
        _container("[", "]", [("", v) for v in value], out, indent, level)
    else:
        out.append(scalar_json(value, kind))


def _container(
    opening: str,
    closing: str,
    items: list[tuple[str, Any]],
    out: list[str],
    indent: int | None,
    level: int,
) -> None:
    if not items:
        out.append(opening + closing)
        return
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    out.append(opening + inner)
    for i, (prefix, item) in enumerate(items):
        if i:
            out.append("," + inner if indent is not None else ", ")
        out.append(prefix)
        _write(item, out, indent, level + 1)
    out.append(("" if indent is None else "\n" + " " * (indent * level)) + closing)


def scalar_json(value: Any, kind: IonType | None) -> str:
    """One non-container Ion value as JSON text."""
    if kind is IonType.BOOL:
        return "true" if value else "false"
    if kind is IonType.INT:
        return str(int(value))
    if kind is IonType.DECIMAL:
        number = Decimal(value)
        return str(number) if number.is_finite() else "null"
    if kind is IonType.FLOAT:
        f = float(value)
        return repr(f) if math.isfinite(f) else "null"
    if kind is IonType.TIMESTAMP:
        return json.dumps(ion.dumps_text(value))
    if kind in (IonType.BLOB, IonType.CLOB):
        return json.dumps(base64.b64encode(bytes(value)).decode("ascii"))
    return json.dumps(ion.text_of(value), ensure_ascii=False)


__all__ = ["dumps_json", "scalar_json"]
