"""Amazon Ion Hash 1.0 (SHA-256) computed straight from Python values.

``ion_hash(v)`` is ``H(v) = SHA256(s(v))`` of QLDB-HASHING.md §1, byte-identical to the
reference ``ionhash`` package; ``ion_hash_serialization(v)`` is ``s(v)`` itself.

Accepted values: the amazon.ion ``simpleion`` types (annotations, typed nulls, symbols,
sexps and clobs included) and plain Python values (dict -> struct, list/tuple -> list,
str -> string, bytes -> blob, None -> null, bool, int, float, Decimal, datetime).

A plain ``datetime`` hashes exactly as amazon.ion writes it: a timestamp with
microsecond precision (six fractional digits, even when they are zero), naive meaning
unknown offset.  So ``ion_hash(v) == ion_hash(simpleion.loads(simpleion.dumps(v)))``,
and a document hashed before it is stored still verifies after it is read back.

Speed is the point of this module (it runs for every revision; bench/ionhash_bench.py
compares it with ``ionhash``): each value is serialized into ``bytes`` by a function
picked from a dict keyed by its exact type, with no intermediate objects; the struct and
list loops serialize plain strings inline; field-name serializations are cached (also
with a string value's type marker appended); decimals, ints and timestamps take short
cuts for their usual forms; escaping scans only when a marker byte can be present.
Nothing derived from a value is cached: a document hashes at the same speed the first
time as the hundredth.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import struct
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol

from amazon.ion.core import IonType, Timestamp, TimestampPrecision
from amazon.ion.simple_types import (
    IonPyBool,
    IonPyBytes,
    IonPyDecimal,
    IonPyDict,
    IonPyFloat,
    IonPyInt,
    IonPyList,
    IonPyNull,
    IonPyStdDict,
    IonPySymbol,
    IonPyText,
    IonPyTimestamp,
)
from amazon.ion.symbols import SymbolToken

from ledger.errors import DataError
from ledger.hashing import native as _native


class HashObject(Protocol):
    """What a hash function returns: only ``digest()`` is used."""

    def digest(self) -> bytes: ...


# Hashes struct fields: SHA-256 in production; the tests also pass an identity and MD5.
Hasher = Callable[[bytes], HashObject]
_Serializer = Callable[[Any, Hasher], bytes]

_sha256 = hashlib.sha256


def _short_input_sha256() -> Hasher:
    """SHA-256 for struct fields, whose inputs are short (mostly one 64-byte block).

    CPython's own implementation skips OpenSSL's per-call EVP set-up and measures ~15%
    faster over whole documents here; OpenSSL stays for the final, longer hash.
    """
    for name in ("_sha2", "_sha256"):  # CPython 3.12+, 3.11
        try:
            sha256: Hasher = importlib.import_module(name).sha256
            return sha256
        except (ImportError, AttributeError):
            continue
    return _sha256


_field_sha256 = _short_input_sha256()

_E = b"\x0e"
_ANNOTATION_START = b"\x0b\xe0"
_SID0 = b"\x0b\x71\x0e"
_FALSE = b"\x0b\x10\x0e"
_TRUE = b"\x0b\x11\x0e"
_NULL = b"\x0b\x0f\x0e"
_FLOAT_ZERO = b"\x0b\x40\x0e"
_NAN = b"\x0b\x40\x7f\xf8\x00\x00\x00\x00\x00\x00\x0e"
_DECIMAL_ZERO = b"\x0b\x50\x0e"
_ZERO8 = bytes(8)
_pack_double = struct.Struct(">d").pack

_TYPE_NIBBLE = {
    IonType.NULL: 0x00,
    IonType.BOOL: 0x10,
    IonType.INT: 0x20,
    IonType.FLOAT: 0x40,
    IonType.DECIMAL: 0x50,
    IonType.TIMESTAMP: 0x60,
    IonType.SYMBOL: 0x70,
    IonType.STRING: 0x80,
    IonType.CLOB: 0x90,
    IonType.BLOB: 0xA0,
    IonType.LIST: 0xB0,
    IonType.SEXP: 0xC0,
    IonType.STRUCT: 0xD0,
}
_TYPED_NULLS = {t: bytes((0x0B, nibble | 0x0F, 0x0E)) for t, nibble in _TYPE_NIBBLE.items()}
# Enum attribute lookups are slow enough to show: bind the members used per value.
_STRING, _SYMBOL, _SEXP, _CLOB = IonType.STRING, IonType.SYMBOL, IonType.SEXP, IonType.CLOB
_SECOND = TimestampPrecision.SECOND


# --- byte-level helpers -------------------------------------------------------------


def _escape_all(data: bytes) -> bytes:
    return (
        data.replace(b"\x0c", b"\x0c\x0c")  # the escape byte itself first
        .replace(b"\x0b", b"\x0c\x0b")
        .replace(b"\x0e", b"\x0c\x0e")
    )


def _escape(data: bytes) -> bytes:
    """Put 0x0C before every 0x0B, 0x0C or 0x0E; most values have none, so test first.

    The hot serializers inline this test rather than pay for the call.
    """
    if 11 in data or 12 in data or 14 in data:
        return _escape_all(data)
    return data


def _compute_varint(n: int) -> bytes:
    """Ion VarInt: 7 bits a byte, big-endian, a sign bit (0x40) in the first byte and an
    end flag (0x80) on the last."""
    magnitude = -n if n < 0 else n
    groups = [magnitude & 0x7F]
    magnitude >>= 7
    while magnitude:
        groups.append(magnitude & 0x7F)
        magnitude >>= 7
    if groups[-1] & 0x40:  # no room for the sign bit: one more byte
        groups.append(0)
    if n < 0:
        groups[-1] |= 0x40
    groups[0] |= 0x80
    return bytes(reversed(groups))


# Exponents and offsets are nearly always small: look them up.
_VARINTS = {n: _compute_varint(n) for n in range(-1024, 1025)}


def _varint(n: int) -> bytes:
    cached = _VARINTS.get(n)
    return cached if cached is not None else _compute_varint(n)


def _signed_magnitude(magnitude: int, negative: bool = False) -> bytes:
    """Ion Int (sign-magnitude, fewest bytes) of a non-zero magnitude."""
    size = magnitude.bit_length() // 8 + 1  # the fewest bytes that leave the top bit free
    if negative:
        magnitude |= 1 << (size * 8 - 1)
    return magnitude.to_bytes(size, "big")


# --- scalars ------------------------------------------------------------------------


def _null(v: Any, h: Hasher) -> bytes:
    return _NULL


def _bool(v: Any, h: Hasher) -> bytes:
    return _TRUE if v else _FALSE


def _compute_int(v: int) -> bytes:
    """TQ 0x20 (>= 0) or 0x30 (< 0), then the magnitude's big-endian bytes (none for 0)."""
    if v >= 0:
        head, data = b"\x0b\x20", v.to_bytes((v.bit_length() + 7) // 8, "big")
    else:
        head, data = b"\x0b\x30", (-v).to_bytes((v.bit_length() + 7) // 8, "big")
    if 11 in data or 12 in data or 14 in data:
        data = _escape_all(data)
    return head + data + _E


_SMALL_INTS = {n: _compute_int(n) for n in range(-256, 1025)}


def _int(v: int, h: Hasher) -> bytes:
    cached = _SMALL_INTS.get(v)
    if cached is not None:
        return cached
    if v > 0:  # _compute_int's usual case, inline: a call costs as much
        data = int.to_bytes(v, (v.bit_length() + 7) // 8, "big")
        if 11 in data or 12 in data or 14 in data:
            data = _escape_all(data)
        return b"\x0b\x20%b\x0e" % data
    return _compute_int(int(v))


def _float(v: float, h: Hasher) -> bytes:
    packed = _pack_double(v)
    if packed == _ZERO8:  # +0e0 has an empty representation; -0e0 does not
        return _FLOAT_ZERO
    if v != v:  # Ion has one nan: amazon.ion's C reader returns a negative one
        return _NAN
    return b"\x0b\x40" + _escape(packed) + _E


_decimal_text = Decimal.__str__


# "\x0b\x50" ‖ VarInt(-n) for n fractional digits: a one-byte VarInt has its 0x80 bit
# set, so it never needs escaping and only the coefficient bytes are tested.
_DECIMAL_HEADS = tuple(b"\x0b\x50" + _compute_varint(-n) for n in range(64))


def _decimal(v: Decimal, h: Hasher) -> bytes:
    """VarInt(exponent) ‖ Int(coefficient).  Parsing ``str`` is ~4x faster than as_tuple."""
    whole, _, fraction = _decimal_text(v).partition(".")
    try:
        coefficient = int(whole + fraction)
    except ValueError:  # exponent form ("1E+3"), NaN, Infinity
        return _decimal_slow(v)
    if coefficient > 0 and len(fraction) < 64:  # the usual decimal: a short cut
        data = coefficient.to_bytes(coefficient.bit_length() // 8 + 1, "big")  # sign bit free
        if 11 in data or 12 in data or 14 in data:
            data = _escape_all(data)
        return _DECIMAL_HEADS[len(fraction)] + data + _E
    if not coefficient:
        return _decimal_slow(v)  # the zeros: 0d0 is empty, -0d0 keeps its sign
    exponent = -len(fraction)
    if coefficient > 0:
        size = coefficient.bit_length() // 8 + 1  # fewest bytes leaving the sign bit free
        body = _varint(exponent) + coefficient.to_bytes(size, "big")
    else:
        body = _varint(exponent) + _signed_magnitude(-coefficient, True)
    if 11 in body or 12 in body or 14 in body:
        body = _escape_all(body)
    return b"\x0b\x50%b\x0e" % body


def _decimal_parts(v: Decimal) -> tuple[bool, int, int]:
    """(negative, coefficient magnitude, exponent)."""
    sign, digits, exponent = v.as_tuple()
    if not isinstance(exponent, int):
        raise DataError(f"cannot hash the decimal {v}: Ion has no NaN or infinite decimals")
    coefficient = int(Decimal((0, digits, 0)))  # exact, and no limit on the digits
    return bool(sign), coefficient, exponent


def _decimal_body(negative: bool, coefficient: int, exponent: int) -> bytes:
    """VarInt(exponent) ‖ Int(coefficient); a zero coefficient is omitted unless -0."""
    if coefficient:
        return _varint(exponent) + _signed_magnitude(coefficient, negative)
    return _varint(exponent) + (b"\x80" if negative else b"")


def _decimal_slow(v: Decimal) -> bytes:
    negative, coefficient, exponent = _decimal_parts(v)
    if not (negative or coefficient or exponent):
        return _DECIMAL_ZERO  # 0d0 only: 0d1, 0d-1 and -0d0 all have bytes
    return b"\x0b\x50" + _escape(_decimal_body(negative, coefficient, exponent)) + _E


def _string(v: str, h: Hasher) -> bytes:
    # A printable string has no 0x0B, 0x0C or 0x0E byte: one C loop instead of three.
    if v.isprintable():
        return b"\x0b\x80%b\x0e" % v.encode()
    return b"\x0b\x80%b\x0e" % _escape(v.encode())


def _symbol_text(text: str) -> bytes:
    if text.isprintable():
        return b"\x0b\x70%b\x0e" % text.encode()
    return b"\x0b\x70%b\x0e" % _escape(text.encode())


def _symbol_token(token: SymbolToken) -> bytes:
    text = token.text
    if text is not None:
        return _symbol_text(text)
    if token.sid == 0:
        return _SID0
    raise DataError(f"cannot hash symbol ${token.sid}: its text is unknown")


def _symbol(v: SymbolToken, h: Hasher) -> bytes:
    return _symbol_token(v)


def _blob(v: bytes, h: Hasher) -> bytes:
    return b"\x0b\xa0" + _escape(bytes(v)) + _E


# --- timestamps ---------------------------------------------------------------------

_MINUTE = _dt.timedelta(minutes=1)
_UTC = _dt.UTC
_FIELDS_BY_PRECISION = (0, 1, 2, 4, 5)  # month, day, hour+minute, second after the year
_pack_7 = struct.Struct(">7B").pack
_pack_6 = struct.Struct(">6B").pack
_POW10 = tuple(10**i for i in range(7))
# QLDB writes every timestamp with milliseconds: their fraction bytes, precomputed.
_MILLIS = tuple(b"\xc3" + (_signed_magnitude(ms) if ms else b"") for ms in range(1000))


def _seconds_body(v: _dt.datetime) -> bytes:
    """VarInt(offset minutes) (0xC0 for -00:00, unknown), then UTC year ... second."""
    tz = v.tzinfo
    if tz is _UTC:  # the usual case, and utcoffset() is a slow call
        head = b"\x80"
    else:
        offset = v.utcoffset()
        if offset:  # fields are hashed in UTC
            minutes, rest = divmod(offset, _MINUTE)
            if rest:
                raise DataError(f"an Ion timestamp offset is whole minutes, not {offset}")
            head = _varint(minutes)
            v = _dt.datetime(v.year, v.month, v.day, v.hour, v.minute, v.second) - offset
        else:
            head = b"\xc0" if offset is None else b"\x80"
    year = v.year
    # VarUInt year (two bytes from 128 on), then one VarUInt byte per field.  struct.pack
    # of the ints is ~40% faster than building a tuple for bytes().
    if year >= 128:
        return head + _pack_7(
            year >> 7, year & 0x7F | 0x80,
            v.month | 0x80, v.day | 0x80, v.hour | 0x80, v.minute | 0x80, v.second | 0x80,
        )  # fmt: skip
    return head + _pack_6(
        year | 0x80, v.month | 0x80, v.day | 0x80, v.hour | 0x80, v.minute | 0x80, v.second | 0x80
    )


def _coarse_body(v: _dt.datetime, precision: int) -> bytes:
    """Offset and UTC fields up to ``precision`` (0 = year ... 3 = minute)."""
    body = _seconds_body(v)
    return body[: len(body) - 5 + _FIELDS_BY_PRECISION[precision]]


def _fraction(v: Timestamp) -> bytes:
    """Fractional seconds as VarInt(exponent) ‖ Int(coefficient); none if zero with exp >= 0."""
    digits = v.fractional_precision
    if digits is not None and digits < 6:
        # Timestamp guarantees fractional_seconds has exactly `digits` digits here.
        if digits == 0:
            return b""
        coefficient = v.microsecond // _POW10[6 - digits]
        return _varint(-digits) + (_signed_magnitude(coefficient) if coefficient else b"")
    seconds = v.fractional_seconds
    if seconds is None:
        return _datetime_fraction(v)
    negative, coefficient, exponent = _decimal_parts(Decimal(seconds))
    if not coefficient and exponent >= 0:
        return b""
    return _decimal_body(negative, coefficient, exponent)


def _datetime_fraction(v: _dt.datetime) -> bytes:
    micro = v.microsecond
    return b"\xc6" + (_signed_magnitude(micro) if micro else b"")


def _timestamp(v: Timestamp, h: Hasher) -> bytes:
    precision = v.precision
    # Unset precision: amazon.ion writes such a Timestamp to the second.
    if precision is _SECOND or precision is None or precision >= 4:
        digits = v.fractional_precision
        if digits == 0:  # whole seconds: no fraction at all
            body = _seconds_body(v)
        elif digits == 3:
            body = _seconds_body(v) + _MILLIS[v.microsecond // 1000]
        else:
            body = _seconds_body(v) + _fraction(v)
    else:
        body = _coarse_body(v, precision)
    if 11 in body or 12 in body or 14 in body:
        body = _escape_all(body)
    return b"\x0b\x60%b\x0e" % body


def _datetime(v: _dt.datetime, h: Hasher) -> bytes:
    return b"\x0b\x60" + _escape(_seconds_body(v) + _datetime_fraction(v)) + _E


# --- containers ---------------------------------------------------------------------

# Field name -> s(name as symbol), and -> s(name) ‖ B ‖ 0x80, the head of a string-valued
# field (most fields: one concatenation fewer each).  Bounded: names are data, and data
# can be hostile.
_NAMES: dict[str, bytes] = {}
_STRING_HEADS: dict[str, bytes] = {}
_NAMES_LIMIT = 8192


def _field_name(name: Any) -> bytes:
    if isinstance(name, str):
        serialized = _symbol_text(name)
        if len(_NAMES) >= _NAMES_LIMIT:
            _NAMES.clear()
        _NAMES[name] = serialized  # only text: a tuple must not pass for a SymbolToken
        return serialized
    if name is None:
        return _SID0  # amazon.ion's key for a $0 field name
    if isinstance(name, SymbolToken):
        return _symbol_token(name)
    raise DataError(f"cannot hash a struct field named by a {type(name).__name__}")


def _string_head(name: Any) -> bytes:
    """s(name) ‖ B ‖ 0x80: what a string-valued field's hash input starts with."""
    head = (_NAMES.get(name) or _field_name(name)) + b"\x0b\x80"
    if isinstance(name, str):
        if len(_STRING_HEADS) >= _NAMES_LIMIT:
            _STRING_HEADS.clear()
        _STRING_HEADS[name] = head
    return head


# A struct is B ‖ 0xD0 ‖ escape(sorted field hashes) ‖ E.  The two struct loops (dict,
# IonPyDict) run for every field of every document, so they serialize unannotated
# printable strings (most fields) inline and build the struct bytes inline too: a Python
# call costs ~100 ns on the machines the benchmarks run on, as much as the work saved.


def _dict(v: dict[Any, Any], h: Hasher) -> bytes:
    names, string_heads, dispatch = _NAMES, _STRING_HEADS, _DISPATCH
    field_hashes: list[bytes] = []
    append = field_hashes.append
    for name, value in v.items():
        t = type(value)
        if t is str and value.isprintable():
            try:
                head = string_heads[name]
            except KeyError:
                head = _string_head(name)
            append(h(head + value.encode() + b"\x0e").digest())
            continue
        try:
            prefix = names[name]
        except KeyError:
            prefix = _field_name(name)
        try:
            serialize = dispatch[t]
        except KeyError:
            serialize = _resolve(t)
        append(h(prefix + serialize(value, h)).digest())
    return _struct_body(field_hashes)


def _struct_body(field_hashes: list[bytes]) -> bytes:
    """s(struct) from its fields' hashes: sorted, joined, escaped."""
    field_hashes.sort()  # unsigned lexicographic, then escaped (never the other way round)
    joined = b"".join(field_hashes)
    # A 32-byte hash holds a marker byte 31% of the time: test small structs first.
    if len(field_hashes) > 2 or 11 in joined or 12 in joined or 14 in joined:
        joined = _escape_all(joined)
    return b"\x0b\xd0%b\x0e" % joined


def _items(v: Iterable[Any], h: Hasher) -> bytes:
    """s(e1) ‖ s(e2) … of a list's items; unannotated strings, the usual item, inline."""
    dispatch = _DISPATCH
    parts = []
    for item in v:
        t = type(item)
        if (
            t is str or (t is IonPyText and item.ion_type is _STRING and not item.ion_annotations)
        ) and item.isprintable():
            parts.append(b"\x0b\x80" + item.encode() + b"\x0e")
        else:
            try:
                serialize = dispatch[t]
            except KeyError:
                serialize = _resolve(t)
            parts.append(serialize(item, h))
    return b"".join(parts)


def _list(v: Iterable[Any], h: Hasher) -> bytes:
    return b"\x0b\xb0%b\x0e" % _items(v, h)


def _annotated(annotations: Iterable[Any], body: bytes) -> bytes:
    symbols = [_symbol_text(a) if isinstance(a, str) else _symbol_token(a) for a in annotations]
    return _ANNOTATION_START + b"".join(symbols) + body + _E


# --- amazon.ion simpleion values: the same, plus annotations ------------------------
# Each checks ``ion_annotations`` itself: a shared wrapper would cost a call per value.


def _ion_null(v: IonPyNull, h: Hasher) -> bytes:
    body = _TYPED_NULLS[v.ion_type]
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_bool(v: IonPyBool, h: Hasher) -> bytes:
    body = _TRUE if v else _FALSE
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_int(v: IonPyInt, h: Hasher) -> bytes:
    body = _int(v, h)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_float(v: IonPyFloat, h: Hasher) -> bytes:
    body = _float(v, h)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_decimal(v: IonPyDecimal, h: Hasher) -> bytes:
    body = _decimal(v, h)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_text(v: IonPyText, h: Hasher) -> bytes:
    if v.ion_annotations or v.ion_type is not _STRING:
        body = _symbol_text(v) if v.ion_type is _SYMBOL else _string(v, h)
        return _annotated(v.ion_annotations, body) if v.ion_annotations else body
    if v.isprintable():
        return b"\x0b\x80%b\x0e" % v.encode()
    return b"\x0b\x80%b\x0e" % _escape(v.encode())


def _ion_symbol(v: IonPySymbol, h: Hasher) -> bytes:
    body = _symbol_token(v)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_bytes(v: IonPyBytes, h: Hasher) -> bytes:
    tq = b"\x0b\x90" if v.ion_type is _CLOB else b"\x0b\xa0"
    body = tq + _escape(bytes(v)) + _E
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_timestamp(v: IonPyTimestamp, h: Hasher) -> bytes:
    body = _timestamp(v, h)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_list(v: IonPyList, h: Hasher) -> bytes:
    tq = b"\x0b\xc0" if v.ion_type is _SEXP else b"\x0b\xb0"
    body = tq + _items(v, h) + _E
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_struct(v: IonPyDict, h: Hasher) -> bytes:
    # IonPyDict keeps {name: [values]} in a private attribute; reading it directly skips
    # a Python generator per struct (iteritems) and keeps repeated field names.
    names, string_heads, dispatch = _NAMES, _STRING_HEADS, _DISPATCH
    field_hashes: list[bytes] = []
    append = field_hashes.append
    for name, values in v._IonPyDict__store.items():
        for value in values:
            t = type(value)
            if (
                t is IonPyText
                and value.ion_type is _STRING
                and not value.ion_annotations
                and value.isprintable()
            ):
                try:
                    head = string_heads[name]
                except KeyError:
                    head = _string_head(name)
                append(h(head + value.encode() + b"\x0e").digest())
                continue
            try:
                prefix = names[name]
            except KeyError:
                prefix = _field_name(name)
            try:
                serialize = dispatch[t]
            except KeyError:
                serialize = _resolve(t)
            append(h(prefix + serialize(value, h)).digest())
    body = _struct_body(field_hashes)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


def _ion_std_struct(v: IonPyStdDict, h: Hasher) -> bytes:
    body = _dict(v, h)
    return _annotated(v.ion_annotations, body) if v.ion_annotations else body


# Exact type -> serializer.  Subclasses are resolved once by _resolve and added here.
_DISPATCH: dict[type, _Serializer] = {
    type(None): _null,
    bool: _bool,
    int: _int,
    float: _float,
    Decimal: _decimal,
    str: _string,
    bytes: _blob,
    bytearray: _blob,
    memoryview: _blob,
    dict: _dict,
    list: _list,
    tuple: _list,
    _dt.datetime: _datetime,
    Timestamp: _timestamp,
    SymbolToken: _symbol,
    IonPyNull: _ion_null,
    IonPyBool: _ion_bool,
    IonPyInt: _ion_int,
    IonPyFloat: _ion_float,
    IonPyDecimal: _ion_decimal,
    IonPyText: _ion_text,
    IonPySymbol: _ion_symbol,
    IonPyBytes: _ion_bytes,
    IonPyTimestamp: _ion_timestamp,
    IonPyList: _ion_list,
    IonPyDict: _ion_struct,
    IonPyStdDict: _ion_std_struct,
}


def _resolve(t: type) -> _Serializer:
    """The serializer for a type not in _DISPATCH (a subclass), learned for next time."""
    for base in t.__mro__[1:]:
        serializer = _DISPATCH.get(base)
        if serializer is not None:
            _DISPATCH[t] = serializer
            return serializer
    raise DataError(f"cannot hash a {t.__name__} as Ion")


def _unknown(v: Any, h: Hasher) -> bytes:
    """Serialize a value whose exact type is not in _DISPATCH."""
    return _resolve(type(v))(v, h)


# --- public -------------------------------------------------------------------------


def ion_hash_serialization(value: Any, hasher: Hasher = _field_sha256) -> bytes:
    """``s(value)``: the bytes that Ion Hash feeds to the hash function.

    ``hasher`` hashes struct fields (SHA-256 for QLDB; the conformance suite's identity
    hasher makes struct fields readable).  Raises DataError for values Ion cannot hold.
    """
    try:
        return _DISPATCH.get(type(value), _unknown)(value, hasher)
    except (ValueError, OverflowError, RecursionError) as exc:
        raise DataError(f"cannot hash {type(value).__name__} as Ion: {exc}") from exc


def list_hash(serializations: Iterable[bytes]) -> bytes:
    """``H`` of an unannotated list from its items' ``s(item)``: a caller that has them
    (it hashed the items as documents) need not serialize the items again."""
    return _sha256(b"\x0b\xb0%b\x0e" % b"".join(serializations)).digest()


def ion_hash(value: Any) -> bytes:
    """``H(value)``: the 32-byte Amazon Ion Hash (SHA-256) of an Ion or Python value."""
    try:
        return _sha256(_DISPATCH.get(type(value), _unknown)(value, _field_sha256)).digest()
    except (ValueError, OverflowError, RecursionError) as exc:  # lone surrogates, cycles
        raise DataError(f"cannot hash {type(value).__name__} as Ion: {exc}") from exc


# --- the compiled twin ------------------------------------------------------------------
# ledger/hashing/_native.c mirrors this module function for function; where it was built
# (and LEDGER_PURE_PYTHON is unset) the public functions above are its.  The pure ones
# stay reachable for the differential tests.
pure_ion_hash = ion_hash
pure_ion_hash_serialization = ion_hash_serialization
pure_list_hash = list_hash

if _native.core is not None:
    _native_serialization = _native.core.ion_hash_serialization

    def ion_hash_serialization(value: Any, hasher: Hasher = _field_sha256) -> bytes:  # noqa: F811
        """``s(value)`` (the compiled core for SHA-256; other hashers run in Python)."""
        if hasher is _field_sha256:
            serialization: bytes = _native_serialization(value)
            return serialization
        return pure_ion_hash_serialization(value, hasher)

    ion_hash = _native.core.ion_hash
    list_hash = _native.core.list_hash
