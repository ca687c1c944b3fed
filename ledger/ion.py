"""Ion helpers shared by every layer: encoding, decoding, ids, a JSON view.

Values are the amazon.ion ``simpleion`` types (IonPyDict, IonPyText, IonPyDecimal,
IonPyTimestamp, ...), which subclass the Python builtins, so plain Python code works
on them; plain Python values are accepted wherever Ion values are.
"""

from __future__ import annotations

import base64
import datetime as _dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType, Timestamp, TimestampPrecision
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import IonPyNull

from ledger.errors import DataError

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22


def new_id() -> str:
    """A random 22-character base62 id (a UUID4's 128 bits), as QLDB issues them."""
    n = uuid.uuid4().int
    chars = []
    for _ in range(ID_LENGTH):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(reversed(chars))


def dumps(value: Any) -> bytes:
    """Ion binary of ``value`` (Ion or plain Python)."""
    try:
        encoded: bytes = simpleion.dumps(value, binary=True)
        return encoded
    except (IonException, TypeError, ValueError) as exc:
        raise DataError(f"cannot encode {type(value).__name__} as Ion: {exc}") from exc


MAX_DECIMAL_DIGITS = 34  # amazon.ion's C writer keeps no more (decimal128) exactly
MAX_NESTING = 100  # levels of lists and structs in one value


def check_storable(value: Any, where: str = "document") -> None:
    """Refuse what could not be stored exactly or processed safely, before anything changes.

    amazon.ion's C writer rounds decimals of more than 34 significant digits (a
    trailing zero of a 35-digit decimal is dropped, changing its precision and hash);
    values nested deeper than MAX_NESTING levels would exhaust the interpreter's stack.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth >= MAX_NESTING:
                raise DataError(f"{where} is nested more than {MAX_NESTING} levels deep")
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, Decimal) and item.is_finite():
            if len(item.as_tuple().digits) > MAX_DECIMAL_DIGITS:
                raise DataError(
                    f"{where} holds the decimal {item}, which has more than "
                    f"{MAX_DECIMAL_DIGITS} significant digits: it cannot be stored exactly"
                )


def dumps_text(value: Any) -> str:
    """Compact Ion text of ``value`` without the version marker."""
    try:
        text: str = simpleion.dumps(value, binary=False, omit_version_marker=True)
    except (IonException, TypeError, ValueError) as exc:
        raise DataError(f"cannot encode {type(value).__name__} as Ion: {exc}") from exc
    return text


def loads(data: bytes | str) -> Any:
    """One Ion value from binary or text."""
    try:
        return simpleion.loads(data)
    except (IonException, ValueError, TypeError) as exc:
        raise DataError(f"invalid Ion: {exc}") from exc


def loads_all(data: bytes | str) -> list[Any]:
    """Every top-level value of an Ion stream."""
    try:
        return list(simpleion.loads(data, single_value=False))
    except (IonException, ValueError, TypeError) as exc:
        raise DataError(f"invalid Ion: {exc}") from exc


def timestamp_ms(moment: _dt.datetime) -> Timestamp:
    """A UTC Ion timestamp with millisecond precision (QLDB's txTime/blockTimestamp)."""
    moment = moment.astimezone(_dt.UTC)
    micro = (moment.microsecond // 1000) * 1000
    return Timestamp(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        micro,
        tzinfo=_dt.UTC,
        precision=TimestampPrecision.SECOND,
        fractional_precision=3,
    )


def now_ms() -> Timestamp:
    return timestamp_ms(_dt.datetime.now(_dt.UTC))


def ion_type_of(value: Any) -> IonType | None:
    """The Ion type of a value, Ion-typed or plain Python; None for MISSING-like input."""
    t = getattr(value, "ion_type", None)
    if t is not None:
        return t
    if value is None:
        return IonType.NULL
    if isinstance(value, bool):
        return IonType.BOOL
    if isinstance(value, int):
        return IonType.INT
    if isinstance(value, float):
        return IonType.FLOAT
    if isinstance(value, Decimal):
        return IonType.DECIMAL
    if isinstance(value, _dt.datetime):
        return IonType.TIMESTAMP
    if isinstance(value, str):
        return IonType.STRING
    if isinstance(value, bytes | bytearray):
        return IonType.BLOB
    if isinstance(value, dict):
        return IonType.STRUCT
    if isinstance(value, list | tuple):
        return IonType.LIST
    return None


def is_null(value: Any) -> bool:
    """True for Python None and every Ion null (typed or not)."""
    return value is None or isinstance(value, IonPyNull)


def text_of(value: Any) -> str:
    """The text of a string or symbol (an Ion symbol is a SymbolToken, not a str)."""
    text = getattr(value, "text", None)
    if text is not None and not isinstance(value, str):
        return str(text)
    return str(value)


def to_json(value: Any) -> Any:
    """A JSON-compatible view of an Ion value (lossy: for display and JSON output)."""
    if is_null(value):
        return None
    t = ion_type_of(value)
    if t is IonType.STRUCT:
        return {str(k): to_json(v) for k, v in value.items()}
    if t in (IonType.LIST, IonType.SEXP):
        return [to_json(v) for v in value]
    if t is IonType.BOOL:
        return bool(value)
    if t is IonType.INT:
        return int(value)
    if t is IonType.FLOAT:
        return float(value)
    if t is IonType.DECIMAL:
        d = Decimal(value)
        exponent = d.as_tuple().exponent
        return int(d) if isinstance(exponent, int) and exponent >= 0 else float(d)
    if t is IonType.TIMESTAMP:
        return dumps_text(value)
    if t in (IonType.BLOB, IonType.CLOB):
        return base64.b64encode(bytes(value)).decode("ascii")
    return text_of(value)
