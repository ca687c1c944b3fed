"""Ion helpers shared by every layer: encoding, decoding, ids, a JSON view.

Values are the amazon.ion ``simpleion`` types (IonPyDict, IonPyText, IonPyDecimal,
IonPyTimestamp, ...), which subclass the Python builtins, so plain Python code works
on them; plain Python values are accepted wherever Ion values are.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from io import BytesIO
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType, Timestamp, TimestampPrecision
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import (
    IonPyBool,
    IonPyBytes,
    IonPyDecimal,
    IonPyDict,
    IonPyFloat,
    IonPyInt,
    IonPyList,
    IonPyNull,
    IonPySymbol,
    IonPyText,
    IonPyTimestamp,
)
from amazon.ion.symbols import SymbolToken

from ledger.errors import DataError
from ledger.hashing import native as _native

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22


_PAIRS = [a + b for a in _BASE62 for b in _BASE62]  # base 62**2: two digits per divmod


_last_id = 0
_id_lock = threading.Lock()


def _forget_last_id() -> None:
    """A forked child starts afresh: continuing from its parent's last id, both would
    step from the same number (and the lock may have been held by a thread it lacks).
    The compiled twin forgets its own (and its pool of random bytes) the same way."""
    global _last_id, _id_lock
    _last_id, _id_lock = 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_last_id)


def pure_new_id() -> str:
    """A 22-character base62 id of 128 bits, as QLDB issues them: the top 48 bits are the
    clock in milliseconds, the other 80 random.  Ids issued later sort later (within a
    process strictly: an id that would not is moved just past the last one), so a
    ledger's keys by document id (docs, revisions) grow at their right edge, in pages
    already in memory and filled to the brim, instead of at random places in ever
    larger, two-thirds-full B-trees.

    ``new_id`` is this function's compiled twin (ledger/_ion_native.c) where built."""
    global _last_id
    n = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    with _id_lock:
        if n <= _last_id:  # the same millisecond (or the clock stepped back)
            n = _last_id + 1 + int.from_bytes(os.urandom(4))
        _last_id = n
    return _id_text(n)


def _id_text(n: int) -> str:
    """The 22 base62 digits of the 128-bit number ``n``, most significant first."""
    pairs = []
    for _ in range(ID_LENGTH // 2):
        n, r = divmod(n, 3844)
        pairs.append(_PAIRS[r])
    pairs.reverse()
    return "".join(pairs)


# amazon.ion's C writer asks every value for ``ion_type`` and ``ion_annotations``
# (PyObject_HasAttrString); a plain str or int answers by raising AttributeError, ~1.5 us
# a question.  These subclasses answer from the class: ``dumps`` wraps plain values in
# them first, and writes the same bytes 1.6x faster (46 -> 28 us for a 300-byte
# document, the wrapping included).  bool and None cannot be subclassed; timestamps are
# left as they are.
class _Text(str):
    __slots__ = ()
    ion_type = IonType.STRING
    ion_annotations = ()


class _Int(int):
    __slots__ = ()
    ion_type = IonType.INT
    ion_annotations = ()


class _Float(float):
    __slots__ = ()
    ion_type = IonType.FLOAT
    ion_annotations = ()


class _Decimal(Decimal):
    __slots__ = ()
    ion_type = IonType.DECIMAL
    ion_annotations = ()


class _Blob(bytes):
    __slots__ = ()
    ion_type = IonType.BLOB
    ion_annotations = ()


class _Struct(dict[Any, Any]):
    __slots__ = ()
    ion_type = IonType.STRUCT
    ion_annotations = ()


class _List(list[Any]):
    __slots__ = ()
    ion_type = IonType.LIST
    ion_annotations = ()


_ANSWERING: dict[type, type] = {str: _Text, int: _Int, float: _Float, Decimal: _Decimal, bytes: _Blob}


def _answering(value: Any) -> Any:
    """``value`` with its plain Python parts in the subclasses above (a copy)."""
    cls = type(value)
    wrap = _ANSWERING.get(cls)
    if wrap is not None:
        return wrap(value)
    if cls is dict:
        return _Struct({name: _answering(item) for name, item in value.items()})
    if cls is list or cls is tuple:
        return _List([_answering(item) for item in value])
    return value


# The compiled twin of dumps (ledger/_ion_native.c): the same bytes for the values the
# ledger stores each commit; None for the rest, which amazon.ion writes.
_ion_native = _native.load("ledger._ion_native")
compiled_core = _ion_native  # the compiled module (ids, encoding, storage copies) or None
_compiled_dumps: Callable[..., bytes | None] | None = (
    _ion_native.dumps if _ion_native is not None else None
)
# ~0.2 us an id against ~5 us: a bulk load issues one per document
new_id: Callable[[], str] = _ion_native.new_id if _ion_native is not None else pure_new_id


def dumps(value: Any) -> bytes:
    """Ion binary of ``value`` (Ion or plain Python)."""
    if _compiled_dumps is not None:
        compiled: bytes | None = _compiled_dumps(value)
        if compiled is not None:
            return compiled
    return pure_dumps(value)


def pure_dumps(value: Any) -> bytes:
    """``dumps`` through amazon.ion alone (the specification of the compiled twin)."""
    try:
        encoded: bytes = simpleion.dumps(_answering(value), binary=True)
        return encoded
    except (IonException, TypeError, ValueError) as exc:
        raise DataError(f"cannot encode {type(value).__name__} as Ion: {exc}") from exc


MAX_DECIMAL_DIGITS = 34  # amazon.ion's C writer keeps no more (decimal128) exactly
MAX_NESTING = 100  # levels of lists and structs in one value
_LEAVES = frozenset(
    {type(None), bool, float, str, bytes, Timestamp, _dt.datetime, SymbolToken,
     IonPyBool, IonPyFloat, IonPyText, IonPyBytes, IonPyTimestamp, IonPySymbol, IonPyNull}
)
_INT64 = 1 << 63
_CONTAINERS = frozenset({dict, list, tuple, IonPyDict, IonPyList})


def check_storable(value: Any, where: str = "document") -> None:
    """Refuse what could not be stored exactly or processed safely, before anything changes.

    amazon.ion's C writer rounds decimals of more than 34 significant digits (a
    trailing zero of a 35-digit decimal is dropped, changing its precision and hash);
    values nested deeper than MAX_NESTING levels would exhaust the interpreter's stack;
    and it loses some integers wider than 64 bits (2**240 reads back as 0), so those
    are written once on their own and must read back equal.
    """
    _check(value, 0, where)


def _check(value: Any, depth: int, where: str) -> None:
    cls = type(value)  # exact types first: ABC isinstance tests cost ~1 us a value
    if cls in _LEAVES:
        return
    if cls is int or cls is IonPyInt:
        if not -_INT64 <= value < _INT64:
            _check_wide_int(int(value), where)
        return
    if cls in _CONTAINERS or (
        isinstance(value, Mapping | list | tuple) and not isinstance(value, SymbolToken)
    ):
        if depth >= MAX_NESTING:
            raise DataError(f"{where} is nested more than {MAX_NESTING} levels deep")
        # items(), not values(): an IonPyDict's repeated field names keep every value
        for child in (v for _, v in value.items()) if isinstance(value, Mapping) else value:
            _check(child, depth + 1, where)
    elif isinstance(value, Decimal):
        check_decimal(value, where)


def _check_wide_int(value: int, where: str) -> None:
    try:
        same = simpleion.loads(simpleion.dumps(value, binary=True)) == value
    except (IonException, ValueError, TypeError):
        same = False
    if not same:
        raise DataError(
            f"{where} holds the integer {value}, which amazon.ion's C extension reads "
            "back changed: it cannot be stored exactly"
        )


# decimal128's exponent range: amazon.ion's C writer loops forever (or frees twice) past it
MIN_DECIMAL_EXPONENT, MAX_DECIMAL_EXPONENT = -6176, 6111


def check_decimal(value: Decimal, where: str = "document") -> None:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and not MIN_DECIMAL_EXPONENT <= exponent <= MAX_DECIMAL_EXPONENT:
        raise DataError(
            f"{where} holds the decimal {value}, whose exponent is outside Ion's decimal128 "
            f"range [{MIN_DECIMAL_EXPONENT}, {MAX_DECIMAL_EXPONENT}]: it cannot be stored"
        )
    if value.is_finite() and len(value.as_tuple().digits) > MAX_DECIMAL_DIGITS:
        raise DataError(
            f"{where} holds the decimal {value}, which has more than "
            f"{MAX_DECIMAL_DIGITS} significant digits: it cannot be stored exactly"
        )


def dumps_storable(value: Any, where: str = "document") -> bytes:
    """``check_storable`` then ``dumps``, in one pass where the compiled encoder can: what
    it writes holds only 64-bit ints, decimals of at most 18 digits in decimal128's
    exponent range and at most MAX_NESTING levels, so it passes the checks by
    construction; anything else takes the two steps."""
    if _compiled_dumps is not None:
        encoded = _compiled_dumps(value, MAX_NESTING)
        if encoded is not None:
            return encoded
    check_storable(value, where)
    return pure_dumps(value)


def dumps_text(value: Any) -> str:
    """Compact Ion text of ``value`` without the version marker."""
    try:
        text: str = simpleion.dumps(value, binary=False, omit_version_marker=True)
    except (IonException, TypeError, ValueError) as exc:
        raise DataError(f"cannot encode {type(value).__name__} as Ion: {exc}") from exc
    return text


TEXT_READER_DEFAULT = 16 * 1024  # amazon.ion's C text reader: bytes one value may span
_BVM = b"\xe0\x01\x00\xea"  # the Ion 1.0 binary version marker


def reader_limit(data: bytes | str) -> int | None:
    """The ``text_buffer_size_limit`` that lets amazon.ion's text reader take every value
    of ``data``: by default it refuses a string, symbol, blob or clob of more than 16 KiB
    (IERR_BUFFER_TOO_SMALL, IERR_TOKEN_TOO_LONG, IERR_LOOKAHEAD_OVERFLOW), far below
    QLDB's document size.  No value can be longer than the text holding it, so the
    text's UTF-8 size is always enough; None (the default) for binary and small text."""
    if isinstance(data, str):
        size = len(data) if data.isascii() else len(data.encode("utf-8"))
    elif data[:4] == _BVM:
        return None
    else:
        size = len(data)
    return size + 1 if size >= TEXT_READER_DEFAULT else None


def loads(data: bytes | str) -> Any:
    """One Ion value from binary or text (of any size)."""
    try:
        return simpleion.loads(data, text_buffer_size_limit=reader_limit(data))
    except (IonException, ValueError, TypeError) as exc:
        raise DataError(f"invalid Ion: {exc}") from exc


# The compiled twin of loads_document (ledger/_ion_decode.c): the same objects for the
# documents the ledger writes; NotImplemented for the rest, which amazon.ion decodes.
_ion_decode = _native.load("ledger._ion_decode")
_compiled_loads: Callable[[bytes], Any] | None = (
    _ion_decode.loads if _ion_decode is not None else None
)


def loads_document(data: bytes) -> Any:
    """A stored document, decoded for the query engine: plain Python values where they
    keep the Ion type (str, int, Decimal, list, Timestamp, SymbolToken), IonPy types
    where they are needed (structs, annotations, typed nulls, sexps) — about 2.5x
    faster to decode than all-IonPy values.

    The compiled twin (ledger/_ion_decode.c) decodes the documents the ledger writes;
    what it declines goes through amazon.ion (``pure_loads_document``)."""
    if _compiled_loads is not None:
        try:
            compiled = _compiled_loads(data)
        except (IonException, ValueError, TypeError) as exc:
            raise DataError(f"invalid Ion: {exc}") from exc
        if compiled is not NotImplemented:
            return compiled
    return pure_loads_document(data)


def pure_loads_document(data: bytes) -> Any:
    """``loads_document`` through amazon.ion alone (the specification of the twin).

    A binary document of one value goes straight to amazon.ion's C reader (what
    ``simpleion.loads`` calls, without its wrappers: a point read's decode costs a
    third less); anything else, and any error, takes ``simpleion.loads``, which gives
    the same value or raises the same error."""
    if _ionc is not None and simpleion.c_ext and type(data) is bytes and data[:4] == _BVM:
        try:
            values = _ionc.ionc_read(
                BytesIO(data), value_model=_MAY_BE_BARE, text_buffer_size_limit=None
            )
            value = next(values, _NONE)
            if value is not _NONE and next(values, _NONE) is _NONE:
                return value
        except (IonException, ValueError, TypeError, RecursionError):
            pass  # simpleion.loads reports it, as it always has
    try:
        return simpleion.loads(
            data,
            value_model=simpleion.IonPyValueModel.MAY_BE_BARE,
            text_buffer_size_limit=reader_limit(data),
        )
    except (IonException, ValueError, TypeError) as exc:
        raise DataError(f"invalid Ion: {exc}") from exc


try:  # amazon.ion's C reader, when its extension is built (simpleion.c_ext)
    import amazon._ioncmodule as _ionc
except ImportError:  # pragma: no cover - the pure-Python amazon.ion
    _ionc = None
_MAY_BE_BARE = simpleion.IonPyValueModel.MAY_BE_BARE.value
_NONE = object()

VALUE_MODELS = ("may_be_bare", "ion_py")  # the models a Ledger or Cursor returns values in


# Plain value -> its IonPy twin.  The classes that carry ion_type on the class are built
# directly (about 3x cheaper than from_value); bytes and timestamps need from_value.
_ION_PY: dict[type, Any] = {
    str: IonPyText,
    int: IonPyInt,
    bool: IonPyBool,
    float: IonPyFloat,
    Decimal: IonPyDecimal,
    bytes: lambda v: IonPyBytes.from_value(IonType.BLOB, v),
    Timestamp: lambda v: IonPyTimestamp.from_value(IonType.TIMESTAMP, v),
}
_ION_PY_LEAVES = frozenset(
    {IonPyText, IonPyInt, IonPyBool, IonPyFloat, IonPyDecimal, IonPyBytes, IonPyTimestamp,
     IonPySymbol, IonPyNull}
)  # fmt: skip


def as_ion_py(value: Any) -> Any:
    """``value`` in amazon.ion's default value model, every value an IonPy type
    (IonPyText, IonPyInt, IonPyDict, typed nulls with ``ion_type``...), as pyqldb
    returns them.  The plain values of the MAY_BE_BARE model and unannotated structs
    and lists are wrapped directly (about 2x faster); anything else is decoded from its
    own Ion binary.  Either way nothing changes but the Python types."""
    cls = type(value)
    if cls in _ION_PY_LEAVES:
        return value  # already an IonPy scalar (decoded in this model)
    wrap = _ION_PY.get(cls)
    if wrap is not None:
        return wrap(value)
    if cls is IonPyDict and not value.ion_annotations:
        struct = IonPyDict.from_value(IonType.STRUCT, {})
        for name, item in value.items():  # every value of a repeated field name
            struct.add_item(name, as_ion_py(item))
        return struct
    if cls is list:
        return IonPyList.from_value(IonType.LIST, [as_ion_py(item) for item in value])
    if value is None:
        return IonPyNull.from_value(IonType.NULL, None)
    try:
        return simpleion.loads(dumps(value))
    except (IonException, ValueError, TypeError) as exc:
        raise DataError(f"invalid Ion: {exc}") from exc


def loads_all(data: bytes | str) -> list[Any]:
    """Every top-level value of an Ion stream."""
    try:
        return list(
            simpleion.loads(data, single_value=False, text_buffer_size_limit=reader_limit(data))
        )
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


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def timestamp_of_ms(ms: int) -> Timestamp:
    """The UTC Ion timestamp (millisecond precision) ``ms`` milliseconds after the epoch:
    ``timestamp_ms(_EPOCH + timedelta(milliseconds=ms))``, built without Timestamp's
    checks (its fractional seconds come from a table) and kept for the next caller
    asking for the same millisecond (a commit's txTime and its statements' startTime):
    ~1 us instead of ~8.  Timestamps are immutable, so sharing one is safe."""
    stamp = _ms_stamps.get(ms)
    if stamp is None:
        moment = _EPOCH + _dt.timedelta(milliseconds=ms)
        stamp = Timestamp.__new__(
            Timestamp, moment.year, moment.month, moment.day, moment.hour, moment.minute,
            moment.second, moment.microsecond, _dt.UTC, TimestampPrecision.SECOND, 3,
            _MS_FRACTIONS[moment.microsecond // 1000],
        )  # fmt: skip
        if len(_ms_stamps) >= 64:
            _ms_stamps.clear()
        _ms_stamps[ms] = stamp
    return stamp


# The fractional seconds Timestamp(..., microsecond=m, fractional_precision=3) computes
_MS_FRACTIONS = tuple(Decimal(ms * 1000).scaleb(-6).quantize(Decimal("0.001")) for ms in range(1000))
_ms_stamps: dict[int, Timestamp] = {}


def epoch_ms() -> int:
    """Now, in milliseconds since the epoch (the clock of txTime and blockTimestamp)."""
    return time.time_ns() // 1_000_000


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
    if isinstance(value, SymbolToken):  # a namedtuple: before the tuple test
        return IonType.SYMBOL
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
