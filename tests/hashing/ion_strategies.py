"""Hypothesis strategies for values of every Ion type, plain Python and amazon.ion:
annotations, typed nulls, nested containers, big integers, decimals with exponents and
negative zero, timestamps of every precision and offset, symbols with unknown text."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
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
from hypothesis import strategies as st

_names = st.one_of(st.text(max_size=8), st.sampled_from(["a", "id", "\x0b", "\x0e\x0c", "é"]))
_ints = st.one_of(
    st.integers(-300, 1100),
    st.integers(),
    st.integers(-(2**200), 2**200),
    st.sampled_from([2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64, 11, 12, 14, 0x0B0E]),
)
_floats = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, float("nan"), float("inf"), 1e-310]))


@st.composite
def _decimals(draw: Any) -> Decimal:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.decimals(allow_nan=False, allow_infinity=False, places=draw(st.integers(0, 8))))
    if kind == 1:  # exponent forms, negative zero, many digits
        sign = draw(st.integers(0, 1))
        digits = draw(st.lists(st.integers(0, 9), max_size=40))
        return Decimal((sign, tuple(digits), draw(st.integers(-80, 80))))
    if kind == 2:
        return draw(st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("0.00"), Decimal("-0E+3"),
                                     Decimal("1E+3"), Decimal("NaN"), Decimal("-Infinity"),
                                     Decimal("sNaN"), Decimal("11"), Decimal("-0.0011")]))
    if kind == 3:
        return Decimal(draw(st.integers(-(10**40), 10**40))).scaleb(draw(st.integers(-70, 70)))
    return draw(st.decimals())


_offsets = st.one_of(
    st.none(),
    st.just(_dt.UTC),
    st.integers(-1439, 1439).map(lambda m: _dt.timezone(_dt.timedelta(minutes=m))),
    st.integers(-86399, 86399).map(lambda s: _dt.timezone(_dt.timedelta(seconds=s))),
)
_datetimes = st.builds(
    lambda d, tz: d.replace(tzinfo=tz),
    st.datetimes(min_value=_dt.datetime(1, 1, 2), max_value=_dt.datetime(9999, 12, 30)),
    _offsets,
)


@st.composite
def _timestamps(draw: Any) -> Timestamp:
    d = draw(_datetimes)
    precision = draw(st.sampled_from([None, *TimestampPrecision]))
    digits = draw(st.one_of(st.none(), st.integers(0, 6)))
    micro = d.microsecond
    if digits is not None:
        micro = micro // 10 ** (6 - digits) * 10 ** (6 - digits)
    seconds = None
    if draw(st.booleans()) and digits is not None:
        extra = draw(st.integers(0, 6))
        coefficient = micro * 10**extra + draw(st.integers(0, 10**extra - 1))
        if digits == 6:
            seconds = Decimal(coefficient).scaleb(-(6 + extra))
        else:
            seconds = Decimal(micro // 10 ** (6 - digits)).scaleb(-digits)
    return Timestamp(d.year, d.month, d.day, d.hour, d.minute, d.second, micro, tzinfo=d.tzinfo,
                     precision=precision, fractional_precision=digits, fractional_seconds=seconds)


_TEXT_TIMESTAMPS = [
    "2007T", "2007-02T", "2007-02-23", "2007-02-23T12:14Z", "2007-02-23T12:14:33Z",
    "2007-02-23T12:14:33.0Z", "2007-02-23T12:14:33.079-08:00", "2007-02-23T12:14:33.0791+05:30",
    "2007-02-23T12:14:33.123456789-00:00", "0001-01-01T00:00:00.000+23:59", "9999-12-31T23:59Z",
    "2007-02-23T20:14:33.000000000000+00:00", "1999-12-31T23:59:59.99999-23:59",
]
_symbols = st.one_of(
    st.builds(SymbolToken, _names, st.none()),
    st.builds(SymbolToken, st.none(), st.sampled_from([0, 0, 10])),
)
_scalars = st.one_of(
    st.none(), st.booleans(), _ints, _floats, _decimals(), st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=5).map(lambda s: s + "\ud800"),
    st.binary(max_size=20), st.binary(max_size=4).map(bytearray), st.binary(max_size=4).map(memoryview),
    _datetimes, _timestamps(), st.sampled_from(_TEXT_TIMESTAMPS).map(simpleion.loads), _symbols,
)
_annotations = st.lists(st.one_of(_names, _symbols), max_size=3).map(tuple)
_SCALAR_TYPES = {
    IonType.BOOL: (IonPyBool, st.booleans()),
    IonType.INT: (IonPyInt, _ints),
    IonType.FLOAT: (IonPyFloat, _floats),
    IonType.DECIMAL: (IonPyDecimal, _decimals()),
    IonType.STRING: (IonPyText, st.text(max_size=10)),
    IonType.SYMBOL: (IonPyText, _names),
    IonType.BLOB: (IonPyBytes, st.binary(max_size=10)),
    IonType.CLOB: (IonPyBytes, st.binary(max_size=10)),
    IonType.TIMESTAMP: (IonPyTimestamp, _timestamps()),
}


@st.composite
def _ion_scalars(draw: Any) -> Any:
    annotations = draw(_annotations)
    kind = draw(st.sampled_from([*_SCALAR_TYPES, "null", "symbol"]))
    if kind == "null":
        return IonPyNull.from_value(draw(st.sampled_from(list(IonType))), None, annotations)
    if kind == "symbol":
        return IonPySymbol.from_value(IonType.SYMBOL, draw(_symbols), annotations)
    cls, values = _SCALAR_TYPES[kind]
    return cls.from_value(kind, draw(values), annotations)


def _containers(children: Any) -> Any:
    fields = st.lists(st.tuples(st.one_of(_names, _symbols, st.none()), children), max_size=5)

    def ion_dict(pairs: list[tuple[Any, Any]], annotations: tuple[Any, ...]) -> IonPyDict:
        d = IonPyDict.from_value(IonType.STRUCT, {}, annotations)
        for name, value in pairs:
            d.add_item(name if isinstance(name, str) else (name.text if name else None) or "", value)
        return d

    def std_dict(pairs: list[tuple[Any, Any]], annotations: tuple[Any, ...]) -> IonPyStdDict:
        d = IonPyStdDict(annotations)
        d.update((n if isinstance(n, str) else "x", v) for n, v in pairs)
        return d

    return st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.one_of(_names, _symbols), children, max_size=5),
        st.builds(ion_dict, fields, _annotations),
        st.builds(std_dict, fields, _annotations),
        st.builds(lambda items, t, a: IonPyList.from_value(t, items, a), st.lists(children, max_size=4),
                  st.sampled_from([IonType.LIST, IonType.SEXP]), _annotations),
    )


ion_values = st.recursive(st.one_of(_scalars, _ion_scalars()), _containers, max_leaves=25)


