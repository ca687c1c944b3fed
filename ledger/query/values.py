"""PartiQL values over Ion: MISSING, bags, type classes, equality, ordering, Ion output.

The evaluator works on amazon.ion simpleion values (read from documents) and on plain
Python values (computed); ``kind`` classifies both.  ``to_ion`` turns a result back into
simpleion values, so callers always get Ion with its types (symbol vs string, decimal
precision, timestamp precision and offset) intact.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from amazon.ion.core import IonType, Timestamp
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
from ledger.ion import MAX_NESTING, compiled_core


class _Missing:
    """PartiQL's MISSING: the value of a path that leads nowhere."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class Bag(list[Any]):
    """A PartiQL bag: an unordered collection (a query result, a `<< >>` literal)."""

    __slots__ = ()


class Struct(dict[str, Any]):
    """A struct computed by a query (documents read from a table stay IonPyDicts)."""

    __slots__ = ()


class MultiStruct(IonPyDict):
    """A computed struct in which a field name repeats, as PartiQL keeps both fields
    (``SELECT *`` over a join of two documents that each have an ``id``)."""

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> MultiStruct:
        out = cls()
        for name, value in fields.items():
            out.add_item(name, value)
        return out


def put_field(out: Struct | MultiStruct, name: str, value: Any) -> Struct | MultiStruct:
    """Add a field to a computed struct, keeping an earlier field of the same name;
    returns the struct to use from now on (a MultiStruct once a name repeats)."""
    if name not in out:
        out[name] = value
        return out
    if type(out) is Struct:
        out = MultiStruct.of(out)
    out.add_item(name, value)  # type: ignore[union-attr]
    return out


MISSING_TYPE = "missing"
NULL = "null"
BOOL = "bool"
INT = "int"
DECIMAL = "decimal"
FLOAT = "float"
TIMESTAMP = "timestamp"
SYMBOL = "symbol"
STRING = "string"
CLOB = "clob"
BLOB = "blob"
LIST = "list"
SEXP = "sexp"
STRUCT = "struct"
BAG = "bag"

NUMBERS = frozenset({INT, DECIMAL, FLOAT})
TEXTS = frozenset({STRING, SYMBOL})
LOBS = frozenset({BLOB, CLOB})
SEQUENCES = frozenset({LIST, SEXP, BAG})
COLLECTIONS = frozenset({LIST, SEXP, BAG, STRUCT})
ABSENT = frozenset({MISSING_TYPE, NULL})

_BY_CLASS: dict[type, str] = {
    bool: BOOL,
    IonPyBool: BOOL,
    int: INT,
    IonPyInt: INT,
    Decimal: DECIMAL,
    IonPyDecimal: DECIMAL,
    float: FLOAT,
    IonPyFloat: FLOAT,
    str: STRING,
    IonPyText: STRING,
    IonPySymbol: SYMBOL,
    SymbolToken: SYMBOL,
    Timestamp: TIMESTAMP,
    IonPyTimestamp: TIMESTAMP,
    _dt.datetime: TIMESTAMP,
    bytes: BLOB,
    type(None): NULL,
    IonPyNull: NULL,
    _Missing: MISSING_TYPE,
    Struct: STRUCT,
    MultiStruct: STRUCT,
    dict: STRUCT,
    IonPyDict: STRUCT,
    IonPyStdDict: STRUCT,
    Bag: BAG,
    list: LIST,
    tuple: LIST,
}

_ION_TYPE_KIND = {
    IonType.LIST: LIST,
    IonType.SEXP: SEXP,
    IonType.BLOB: BLOB,
    IonType.CLOB: CLOB,
}


def kind(value: Any) -> str:
    """The PartiQL type class of a value: one of the constants above."""
    cls = type(value)
    if cls is IonPyList:
        if value.ion_annotations and _is_bag(value.ion_annotations):
            return BAG
        return _ION_TYPE_KIND[value.ion_type]
    if cls is IonPyBytes:
        return _ION_TYPE_KIND[value.ion_type]
    found = _BY_CLASS.get(cls)
    if found is not None:
        return found
    return _kind_slow(value)


def _is_bag(annotations: tuple[Any, ...]) -> bool:
    """A `$bag::[...]` list (how PartiQL writes a bag in Ion)."""
    return any(getattr(a, "text", a) == "$bag" for a in annotations)


def _kind_slow(value: Any) -> str:
    if isinstance(value, IonPyNull):
        return NULL
    if isinstance(value, bool):
        return BOOL
    for base, name in (
        (int, INT),
        (Decimal, DECIMAL),
        (float, FLOAT),
        (str, STRING),
        (SymbolToken, SYMBOL),
        (_dt.datetime, TIMESTAMP),
        (bytes | bytearray, BLOB),
        (Mapping, STRUCT),
        (Bag, BAG),
        (list | tuple, LIST),
    ):
        if isinstance(value, base):
            return name
    raise DataError(f"not an Ion value: {type(value).__name__}")


def is_absent(value: Any) -> bool:
    """True for NULL (any Ion null) and MISSING."""
    return value is None or value is MISSING or isinstance(value, IonPyNull)


def is_true(value: Any) -> bool:
    """WHERE semantics: only the boolean TRUE passes (not NULL, not MISSING)."""
    return value is True or (type(value) is IonPyBool and bool(value))


def text_of(value: Any) -> str:
    """The text of a string or symbol."""
    if isinstance(value, SymbolToken):
        return str(value.text)
    return str(value)


def symbol(text: str) -> IonPySymbol:
    return IonPySymbol.from_value(IonType.SYMBOL, SymbolToken(text, None))


def elements(value: Any) -> Iterable[Any]:
    """The elements of a sequence, or the field values of a struct."""
    if isinstance(value, Mapping):
        return [v for _, v in struct_items(value)]
    return value


def struct_items(value: Any) -> list[tuple[str, Any]]:
    """Every (name, value) field of a struct, duplicates included."""
    return list(value.items())


# ---------------------------------------------------------------- equality and order


def instant(value: _dt.datetime) -> _dt.datetime:
    """A timestamp as an aware UTC datetime (unknown offset `-00:00` counts as UTC)."""
    # a plain datetime: replace()/astimezone() on an Ion Timestamp build a Timestamp
    # without its precision, which then cannot even be printed
    plain = _dt.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.tzinfo or _dt.UTC,
    )
    return plain.astimezone(_dt.UTC)


def _timestamp_key(value: _dt.datetime) -> tuple[_dt.datetime, Decimal]:
    frac = getattr(value, "fractional_seconds", None)
    extra = Decimal(frac) - Decimal(value.microsecond) / 1_000_000 if frac is not None else 0
    return instant(value), Decimal(extra)


_RANK = {
    BOOL: 1,
    INT: 2,
    DECIMAL: 2,
    FLOAT: 2,
    TIMESTAMP: 4,
    STRING: 5,
    SYMBOL: 5,
    BLOB: 6,
    CLOB: 6,
    LIST: 7,
    SEXP: 8,
    STRUCT: 9,
    BAG: 10,
}


def sort_key(value: Any, nulls_high: bool = True) -> tuple[Any, ...]:
    """A key giving PartiQL's total order: bool < numbers < timestamps < text < lobs <
    lists < sexps < structs < bags; NULL and MISSING first or last (``nulls_high``)."""
    k = kind(value)
    if k in ABSENT:
        return (11,) if nulls_high else (0,)
    rank = _RANK[k]
    if k == BOOL:
        return (1, bool(value))
    if rank == 2:
        if k == FLOAT and math.isnan(value):
            return (2, 0, 0)
        return (2, 1, value)
    if k == TIMESTAMP:
        return (4, _timestamp_key(value))
    if rank == 5:
        return (5, text_of(value))
    if rank == 6:
        return (6, bytes(value))
    if k == STRUCT:
        fields = sorted((name, sort_key(v, nulls_high)) for name, v in struct_items(value))
        return (9, tuple(fields))
    keys = [sort_key(v, nulls_high) for v in value]
    if k == BAG:
        keys.sort()
    return (rank, tuple(keys))


def group_key(value: Any) -> tuple[Any, ...]:
    """A hashable key under which PartiQL-equal values collide (DISTINCT, GROUP BY).

    NULL and MISSING are kept apart; numbers are equal by value across Ion types."""
    if value is MISSING:
        return (-1,)
    return sort_key(value, nulls_high=False)


def equal(a: Any, b: Any) -> Any:
    """PartiQL `=`: TRUE/FALSE, NULL if either side is NULL, MISSING if either is MISSING."""
    ka, kb = kind(a), kind(b)
    if ka in ABSENT or kb in ABSENT:
        if ka == MISSING_TYPE and kb == MISSING_TYPE:
            return MISSING
        return None if NULL in (ka, kb) else MISSING
    return same_value(a, ka, b, kb)


def same_value(a: Any, ka: str, b: Any, kb: str) -> bool:
    """Equality of two present values of kinds ``ka`` and ``kb``."""
    if ka in NUMBERS and kb in NUMBERS:
        return bool(a == b)
    if ka in TEXTS and kb in TEXTS:
        return text_of(a) == text_of(b)
    if _RANK.get(ka) != _RANK.get(kb):
        return False
    if ka == TIMESTAMP:
        return _timestamp_key(a) == _timestamp_key(b)
    if ka == BOOL or ka in LOBS:
        return bool(a == b)
    return group_key(a) == group_key(b)


def compare(a: Any, b: Any) -> Any:
    """-1, 0 or 1 for comparable values; NULL or MISSING when absent or incomparable."""
    ka, kb = kind(a), kind(b)
    if ka in ABSENT or kb in ABSENT:
        return None if NULL in (ka, kb) and MISSING_TYPE not in (ka, kb) else MISSING
    if ka in NUMBERS and kb in NUMBERS:
        if (ka == FLOAT and math.isnan(a)) or (kb == FLOAT and math.isnan(b)):
            return None
        return (a > b) - (a < b)
    if ka in TEXTS and kb in TEXTS:
        x, y = text_of(a), text_of(b)
        return (x > y) - (x < y)
    if ka == kb == TIMESTAMP:
        p, q = _timestamp_key(a), _timestamp_key(b)
        return (p > q) - (p < q)
    if ka == kb == BOOL:
        return (bool(a) > bool(b)) - (bool(a) < bool(b))
    return MISSING


# ---------------------------------------------------------------- Ion output


def _ion_null(annotations: tuple[str, ...] = ()) -> IonPyNull:
    return IonPyNull.from_value(IonType.NULL, None, annotations)


_SCALAR_TO_ION: dict[type, tuple[Any, IonType]] = {
    bool: (IonPyBool, IonType.BOOL),
    int: (IonPyInt, IonType.INT),
    float: (IonPyFloat, IonType.FLOAT),
    Decimal: (IonPyDecimal, IonType.DECIMAL),
    str: (IonPyText, IonType.STRING),
    bytes: (IonPyBytes, IonType.BLOB),
    Timestamp: (IonPyTimestamp, IonType.TIMESTAMP),
    _dt.datetime: (IonPyTimestamp, IonType.TIMESTAMP),
    SymbolToken: (IonPySymbol, IonType.SYMBOL),
}

_ION_CLASSES = (
    IonPyBool,
    IonPyInt,
    IonPyFloat,
    IonPyDecimal,
    IonPyText,
    IonPyBytes,
    IonPyTimestamp,
    IonPySymbol,
    IonPyNull,
)

# Scalars that are Ion values as they are: amazon.ion's MAY_BE_BARE model (what documents
# decode to) has plain Python values where the Ion type is unambiguous, IonPy where not.
_AS_IS = frozenset(
    {type(None), bool, int, float, Decimal, str, bytes, Timestamp, _dt.datetime, SymbolToken,
     *_ION_CLASSES}
)


def to_ion(value: Any, *, storage: bool = False) -> Any:
    """A result value, or a value about to be stored, as Ion values.

    Values keep amazon.ion's MAY_BE_BARE model: plain Python where the Ion type is
    unambiguous, IonPy types where they are needed (annotations, typed nulls, sexps).
    For query results MISSING becomes ``$missing::null`` and a nested bag a
    ``$bag::[...]`` list (the PartiQL conformance conventions); with ``storage`` bags
    become plain lists, MISSING elements are dropped and containers are copied (what is
    stored shares nothing mutable with the caller).  The journal refuses what Ion cannot
    store exactly (ledger.ion.check_storable).

    A document to store (a plain dict or list of plain values: every parameter a
    program inserts) is copied by the compiled twin of ``_convert`` where it is built,
    ~0.5 us instead of ~6; it declines anything else, which ``_convert`` then copies.
    """
    if storage and _compiled_copy is not None and (type(value) is dict or type(value) is list):
        copied = _compiled_copy(value, _AS_IS, MAX_NESTING)
        if copied is not None:
            return copied
    return _convert(value, storage, 0)


# storage_copy(value, as_is, max_depth): _convert(value, True, 0), or None to decline
_compiled_copy = compiled_core.storage_copy if compiled_core is not None else None


def _convert(value: Any, storage: bool, depth: int) -> Any:
    """``to_ion`` by exact type: the common cases are one set or identity test each."""
    cls = type(value)
    if cls in _AS_IS:
        return value
    if cls is dict or cls is list or cls is tuple:
        _check_depth(depth)
        if cls is dict:
            fields = {
                name if type(name) is str else text_of(name): _convert(item, storage, depth + 1)
                for name, item in value.items()
                if item is not MISSING
            }
            # results keep the model's IonPyDict; a dict to store need not pay for one
            return fields if storage else IonPyDict.from_value(IonType.STRUCT, fields)
        if storage:
            return [_convert(item, True, depth + 1) for item in value if item is not MISSING]
        return [_convert(item, False, depth + 1) for item in value]
    if (cls is IonPyDict or cls is IonPyList) and not storage:
        return value  # read from a document (or edited by DML, which converts what it sets)
    if value is MISSING:
        return _ion_null(("$missing",))
    if isinstance(value, Mapping):
        return _struct_to_ion(value, storage, depth)
    if isinstance(value, list | tuple) and not isinstance(value, SymbolToken):
        return _list_to_ion(value, storage, depth)
    return _scalar_to_ion(value)


def _scalar_to_ion(value: Any) -> Any:
    for base, (ion_class, ion_type) in _SCALAR_TO_ION.items():
        if isinstance(value, base):
            return ion_class.from_value(ion_type, value)
    if isinstance(value, bytearray):
        return bytes(value)
    raise DataError(f"cannot convert {type(value).__name__} to Ion")


def _check_depth(depth: int) -> None:
    if depth >= MAX_NESTING:
        raise DataError(f"a value is nested more than {MAX_NESTING} levels deep")


def _struct_to_ion(value: Mapping[str, Any], storage: bool, depth: int) -> IonPyDict:
    _check_depth(depth)
    out = IonPyDict.from_value(IonType.STRUCT, {})
    for name, item in value.items():
        if item is MISSING:
            continue
        out.add_item(text_of(name), _convert(item, storage, depth + 1))
    out.ion_annotations = getattr(value, "ion_annotations", ())
    return out


def _list_to_ion(value: list[Any] | tuple[Any, ...], storage: bool, depth: int) -> IonPyList:
    _check_depth(depth)
    if storage:
        items = [_convert(v, True, depth + 1) for v in value if v is not MISSING]
    else:
        items = [_convert(v, False, depth + 1) for v in value]
    ion_type = value.ion_type if isinstance(value, IonPyList) else IonType.LIST
    annotations: tuple[str, ...] = getattr(value, "ion_annotations", ())
    if isinstance(value, Bag) and not storage:
        annotations = ("$bag",)
    return IonPyList.from_value(ion_type, items, annotations)


def deep_copy(value: Any) -> Any:
    """A mutable copy of a document, keeping Ion types, for DML to edit in place."""
    if isinstance(value, Mapping):
        out = IonPyDict.from_value(IonType.STRUCT, {})
        for name, item in value.items():
            out.add_item(name, deep_copy(item))
        out.ion_annotations = getattr(value, "ion_annotations", ())
        return out
    if isinstance(value, list) and not isinstance(value, Bag):
        ion_type = value.ion_type if isinstance(value, IonPyList) else IonType.LIST
        return IonPyList.from_value(
            ion_type, [deep_copy(v) for v in value], getattr(value, "ion_annotations", ())
        )
    return value
