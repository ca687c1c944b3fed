"""Order-preserving byte encoding of Ion values, for index keys.

``encode(a) < encode(b)`` (as bytes) exactly when a sorts before b: values sort by a
type rank first (null < bool < number < timestamp < text < lob < list < struct), then
by value.  Numbers of every Ion type share one rank and encode by value, so ``1``,
``1.0`` and ``1e0`` encode alike and equality lookups find all three; string and
symbol share the text rank.  An encoding is self-delimiting, so a document id can
follow it in a key.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from typing import Any

from amazon.ion.core import IonType

from ledger.ion import ion_type_of, is_null, text_of

RANK_NULL = 0x10
RANK_BOOL = 0x20
RANK_NUMBER = 0x30
RANK_TIMESTAMP = 0x40
RANK_TEXT = 0x50
RANK_LOB = 0x60
RANK_LIST = 0x70
RANK_STRUCT = 0x80

_NEG, _ZERO, _POS, _NAN = 0x01, 0x02, 0x03, 0x04
_TEXT = bytes((RANK_TEXT,))
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def encode(value: Any) -> bytes:
    if type(value) is str:  # the common key, without the type dispatch
        return _TEXT + value.encode("utf-8").replace(b"\x00", b"\x00\xff") + b"\x00\x00"
    out = bytearray()
    _encode_into(value, out)
    return bytes(out)


def _encode_into(value: Any, out: bytearray) -> None:
    if is_null(value):
        out.append(RANK_NULL)
        return
    t = ion_type_of(value)
    if t is IonType.BOOL:
        out += bytes((RANK_BOOL, 1 if value else 0))
    elif t in (IonType.INT, IonType.DECIMAL, IonType.FLOAT):
        out.append(RANK_NUMBER)
        _number(value, out)
    elif t is IonType.TIMESTAMP:
        out.append(RANK_TIMESTAMP)
        _timestamp(value, out)
    elif t in (IonType.STRING, IonType.SYMBOL):
        out.append(RANK_TEXT)
        _escaped(text_of(value).encode("utf-8"), out)
    elif t in (IonType.BLOB, IonType.CLOB):
        out.append(RANK_LOB)
        _escaped(bytes(value), out)
    elif t in (IonType.LIST, IonType.SEXP):
        out.append(RANK_LIST)
        for item in value:
            out.append(0x01)
            _encode_into(item, out)
        out.append(0x00)
    elif t is IonType.STRUCT:
        out.append(RANK_STRUCT)
        for name, item in sorted(value.items(), key=lambda kv: text_of(kv[0])):
            out.append(0x01)
            _escaped(text_of(name).encode("utf-8"), out)
            _encode_into(item, out)
        out.append(0x00)
    else:
        raise TypeError(f"cannot index a {type(value).__name__}")


def _escaped(raw: bytes, out: bytearray) -> None:
    """Bytes with 0x00 escaped as 00 FF, ended by 00 00: prefixes sort first."""
    out += raw.replace(b"\x00", b"\x00\xff")
    out += b"\x00\x00"


def _number(value: Any, out: bytearray) -> None:
    if isinstance(value, float):
        if math.isnan(value):
            out.append(_NAN)
            return
        if math.isinf(value):
            # +inf after every finite positive, -inf before every finite negative.
            out += bytes((_POS, 0xFF, 0xFF, 0xFF, 0xFF)) if value > 0 else bytes((_NEG, 0, 0, 0, 0))
            return
    d = Decimal(value) if not isinstance(value, Decimal) else value
    if d.is_zero():
        out.append(_ZERO)
        return
    sign, digits, exponent = d.normalize().as_tuple()
    assert isinstance(exponent, int)
    # value = 0.d1d2... x 10**adjusted; a larger adjusted exponent means a larger magnitude
    adjusted = exponent + len(digits)
    exp_bytes = (adjusted + (1 << 31)).to_bytes(4, "big")
    digit_bytes = bytes(0x30 + d_ for d_ in digits)
    if sign == 0:
        out.append(_POS)
        out += exp_bytes
        out += digit_bytes
        out.append(0x00)
    else:
        out.append(_NEG)
        out += bytes(0xFF - b for b in exp_bytes)
        out += bytes(0xFF - b for b in digit_bytes)
        out.append(0xFF)


def _timestamp(value: _dt.datetime, out: bytearray) -> None:
    """The instant in UTC: whole seconds since 1970 (offset), then the fraction's digits."""
    moment = value if value.tzinfo is not None else value.replace(tzinfo=_dt.UTC)
    seconds = math.floor((moment.replace(microsecond=0) - _EPOCH).total_seconds())
    out += (seconds + (1 << 63)).to_bytes(8, "big")
    # amazon.ion keeps digits beyond microseconds in fractional_seconds (0 <= f < 1)
    fraction = getattr(value, "fractional_seconds", None)
    if fraction is None:
        fraction = Decimal(moment.microsecond).scaleb(-6)
    digits = "" if not fraction else format(Decimal(fraction).normalize(), "f").split(".")[-1]
    out += digits.encode("ascii")
    out.append(0x00)
