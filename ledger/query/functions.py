"""The function registry: scalar functions, CAST, TRIM, and the aggregate names.

A function is registered with its arity; ``bind`` turns it into a closure over its
compiled arguments.  Most functions return MISSING when an argument is MISSING and
NULL when one is NULL; COALESCE, NULLIF and friends opt out of that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from amazon.ion.simple_types import IonPyList

from ledger.errors import DataError, ProgrammingError
from ledger.ion import dumps_text
from ledger.query import ast, datetimes
from ledger.query.env import Env, Fn, Runtime
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
    Bag,
    MultiStruct,
    Struct,
    equal,
    is_true,
    kind,
    put_field,
    symbol,
    text_of,
)

AGGREGATES = frozenset({"count", "sum", "avg", "min", "max", "every", "any", "some"})
# COLL_COUNT(collection) and friends: an aggregate over one collection value
COLLECTION_AGGREGATES = frozenset(f"coll_{name}" for name in AGGREGATES)
PART_FIRST = frozenset({"date_add", "date_diff"})
# QLDB's own functions return NULL when an argument is NULL *or MISSING* ("Unless otherwise
# stated, all functions propagate null and missing argument values ... defined as returning
# NULL": QLDB Developer Guide, "PartiQL functions in Amazon QLDB"); the other PartiQL
# functions keep PartiQL's rule (MISSING for MISSING).
QLDB_FUNCTIONS = frozenset(
    {"size", "char_length", "character_length", "lower", "upper", "substring", "trim",
     "date_add", "date_diff", "extract", "to_string", "to_timestamp"}
)  # fmt: skip


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int
    propagate: bool = True  # NULL/MISSING argument -> NULL/MISSING result
    runtime: bool = False  # impl takes the Runtime first (UTCNOW, TXID)

    def check_arity(self, count: int, star: bool) -> None:
        if star or not self.min_args <= count <= self.max_args:
            want = (
                str(self.min_args)
                if self.min_args == self.max_args
                else f"{self.min_args} to {self.max_args}"
            )
            got = "*" if star else str(count)
            raise ProgrammingError(f"{self.name.upper()} takes {want} argument(s), got {got}")

    def bind(self, args: list[Fn], strict: bool = False) -> Fn:
        """The call as a closure; in strict mode an argument of the wrong type (the
        function answering MISSING for present arguments) raises DataError."""
        impl = self.impl
        if self.runtime:
            return lambda env: impl(env.rt, *[a(env) for a in args])
        if not self.propagate:
            return lambda env: impl(*[a(env) for a in args])
        name = self.name

        null_for_missing = name in QLDB_FUNCTIONS

        def run(env: Env) -> Any:
            values = [a(env) for a in args]
            absent = _absent_result(values)
            if absent is not _PRESENT:
                return None if null_for_missing else absent
            result = impl(*values)
            if strict and result is MISSING:
                raise type_error(name.upper(), values)
            return result

        return run


def type_error(what: str, values: list[Any]) -> DataError:
    """Strict mode's answer to operands of the wrong type."""
    kinds = ", ".join(kind(v) for v in values)
    return DataError(f"{what} cannot take ({kinds}): a type error in strict mode")


_PRESENT = object()


def _absent_result(values: list[Any]) -> Any:
    result = _PRESENT
    for value in values:
        k = kind(value)
        if k == MISSING_TYPE:
            return MISSING
        if k == NULL:
            result = None
    return result


FUNCTIONS: dict[str, FunctionSpec] = {}


def register(
    name: str,
    min_args: int,
    max_args: int | None = None,
    *,
    propagate: bool = True,
    runtime: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(impl: Callable[..., Any]) -> Callable[..., Any]:
        top = min_args if max_args is None else max_args
        FUNCTIONS[name] = FunctionSpec(name, impl, min_args, top, propagate, runtime)
        return impl

    return decorate


def lookup(name: str) -> FunctionSpec | None:
    if name == "history":
        raise ProgrammingError("history() is only valid as a FROM source")
    return FUNCTIONS.get(name)


# ---------------------------------------------------------------- collections


@register("cardinality", 1)
def cardinality(value: Any) -> Any:
    """PartiQL's CARDINALITY: MISSING for anything but a collection."""
    return len(value) if kind(value) in (LIST, SEXP, BAG, STRUCT) else MISSING


@register("size", 1)
def size(value: Any) -> Any:
    """The number of elements of a list, sexp, bag or struct; anything else is an error
    (QLDB Developer Guide, "SIZE function": ``SIZE(12) -- error``)."""
    if kind(value) in (LIST, SEXP, BAG, STRUCT):
        return len(value)
    raise DataError(f"SIZE takes a list, struct or bag, got {kind(value)} {_show(value)}")


@register("tupleunion", 0, 1000, propagate=False)
def tupleunion(*values: Any) -> Any:
    """TUPLEUNION(s1, s2, ...): every field of every struct, repeated names kept;
    MISSING if an argument is not a struct."""
    out: Struct | MultiStruct = Struct()
    for value in values:
        if not isinstance(value, Mapping):
            return MISSING
        for name, item in value.items():
            out = put_field(out, text_of(name), item)
    return out


@register("coalesce", 1, 1000, propagate=False)
def coalesce(*values: Any) -> Any:
    for value in values:
        if kind(value) not in ABSENT:
            return value
    return None


@register("nullif", 2, propagate=False)
def nullif(a: Any, b: Any) -> Any:
    """NULL when a = b, else a; NULL, not MISSING, for a MISSING ``a`` (QLDB Developer
    Guide, "NULLIF function": ``NULLIF(missing, null) -- null``)."""
    if kind(a) == MISSING_TYPE:
        return None
    return None if is_true(equal(a, b)) else a


# ---------------------------------------------------------------- strings


def _text(value: Any, function: str) -> str | None:
    if kind(value) not in TEXTS:
        return None
    return text_of(value)


@register("char_length", 1)
@register("character_length", 1)
def char_length(value: Any) -> Any:
    text = _text(value, "CHAR_LENGTH")
    return MISSING if text is None else len(text)


@register("lower", 1)
def lower(value: Any) -> Any:
    text = _text(value, "LOWER")
    return MISSING if text is None else text.lower()


@register("upper", 1)
def upper(value: Any) -> Any:
    text = _text(value, "UPPER")
    return MISSING if text is None else text.upper()


@register("substring", 2, 3)
def substring(value: Any, start: Any, length: Any = None) -> Any:
    text = _text(value, "SUBSTRING")
    if text is None or kind(start) != INT or (length is not None and kind(length) != INT):
        return MISSING
    first = int(start)
    if length is None:
        return text[max(first, 1) - 1 :]
    if int(length) < 0:
        raise DataError(f"SUBSTRING length must not be negative, got {int(length)}")
    end = first + int(length)  # exclusive, 1-based, as SQL counts from a virtual position
    begin = max(first, 1)
    return text[begin - 1 : max(end - 1, begin - 1)]


@register("trim", 1)
def trim_spaces(value: Any) -> Any:
    return trim("both", " ", value)


def trim(spec: str, chars: Any, value: Any) -> Any:
    if kind(value) in ABSENT or kind(chars) in ABSENT:
        return None  # QLDB's functions: NULL for a NULL or MISSING argument
    text, strip = _text(value, "TRIM"), _text(chars, "TRIM")
    if text is None or strip is None:
        return MISSING
    if spec == "leading":
        return text.lstrip(strip)
    if spec == "trailing":
        return text.rstrip(strip)
    return text.strip(strip)


@register("position", 2)
def position(needle: Any, haystack: Any) -> Any:
    """POSITION(needle IN haystack): 1-based, 0 when absent."""
    if kind(needle) not in TEXTS or kind(haystack) not in TEXTS:
        return MISSING
    return text_of(haystack).find(text_of(needle)) + 1


@register("overlay", 3, 4)
def overlay(value: Any, placing: Any, start: Any, length: Any = None) -> Any:
    """OVERLAY(s PLACING r FROM n [FOR m]): s with m characters (default len(r))
    from position n replaced by r."""
    text, new = _text(value, "OVERLAY"), _text(placing, "OVERLAY")
    if text is None or new is None or kind(start) != INT:
        return MISSING
    if length is not None and kind(length) != INT:
        return MISSING
    count = len(new) if length is None else max(int(length), 0)
    begin = max(int(start), 1) - 1
    return text[:begin] + new + text[begin + count :]


@register("bit_length", 1)
def bit_length(value: Any) -> Any:
    size = _octets(value)
    return MISSING if size is None else size * 8


@register("octet_length", 1)
def octet_length(value: Any) -> Any:
    size = _octets(value)
    return MISSING if size is None else size


def _octets(value: Any) -> int | None:
    if kind(value) in TEXTS:
        return len(text_of(value).encode("utf-8"))
    if kind(value) in (BLOB, CLOB):
        return len(bytes(value))
    return None


@register("mod", 2)
def mod(a: Any, b: Any) -> Any:
    from ledger.query.operators import modulo

    return modulo(a, b)


@register("abs", 1)
def abs_(value: Any) -> Any:
    if kind(value) not in NUMBERS:
        return MISSING
    return abs(value)


# ---------------------------------------------------------------- time and transaction


@register("utcnow", 0, runtime=True)
def utcnow(rt: Runtime) -> Any:
    return rt.ctx.now()


@register("txid", 0, runtime=True)
def txid(rt: Runtime) -> Any:
    return rt.ctx.transaction_id


register("date_add", 3)(datetimes.date_add)
register("date_diff", 3)(datetimes.date_diff)
register("extract", 2)(datetimes.extract)
register("to_string", 2)(datetimes.to_string)
register("to_timestamp", 1, 2)(datetimes.to_timestamp)


# ---------------------------------------------------------------- CAST

_CAST_TARGETS = {
    "int": INT,
    "integer": INT,
    "smallint": INT,
    "bigint": INT,
    "int2": INT,
    "int4": INT,
    "int8": INT,
    "integer2": INT,
    "integer4": INT,
    "integer8": INT,
    "decimal": DECIMAL,
    "numeric": DECIMAL,
    "dec": DECIMAL,
    "float": FLOAT,
    "real": FLOAT,
    "double": FLOAT,
    "string": STRING,
    "varchar": STRING,
    "char": STRING,
    "character": STRING,
    "text": STRING,
    "symbol": SYMBOL,
    "bool": BOOL,
    "boolean": BOOL,
    "timestamp": TIMESTAMP,
    "list": LIST,
    "array": LIST,
    "sexp": SEXP,
    "bag": BAG,
    "struct": STRUCT,
    "tuple": STRUCT,
    "blob": BLOB,
    "clob": CLOB,
    "null": NULL,
    "missing": MISSING_TYPE,
}


def caster(type_name: ast.TypeName) -> Callable[[Any], Any]:
    """The conversion behind ``CAST(x AS type)``."""
    target = _CAST_TARGETS.get(type_name.name)
    if target is None:
        raise ProgrammingError(f"CAST to unknown type {type_name.name.upper()}")
    convert = _CASTS[target]
    if type_name.name in ("char", "character") and type_name.args:
        convert = _to_fixed_char
    args = type_name.args
    if target == DECIMAL and args:
        _check_decimal_type(args)

    def run(value: Any) -> Any:
        k = kind(value)
        if target in (NULL, MISSING_TYPE):
            # QLDB Developer Guide, "CAST function": CAST(missing AS null) -- null,
            # CAST(null AS missing) -- missing, CAST(1 AS null) -- error
            if k not in ABSENT:
                raise DataError(
                    f"cannot cast {_show(value)} to {target.upper()}: only NULL and MISSING can"
                )
            return None if target == NULL else MISSING
        if k in ABSENT:
            return MISSING if k == MISSING_TYPE else None
        try:
            return convert(value, k, args)
        except (ValueError, InvalidOperation, OverflowError) as exc:
            raise DataError(
                f"cannot cast {_show(value)} to {_type_text(type_name)}: {exc}"
            ) from exc

    return run


def _type_text(type_name: ast.TypeName) -> str:
    args = f"({', '.join(map(str, type_name.args))})" if type_name.args else ""
    return type_name.name.upper() + args


def _check_decimal_type(args: tuple[int, ...]) -> None:
    precision, scale = args[0], (args[1] if len(args) > 1 else 0)
    if precision < 1 or not 0 <= scale <= precision:
        raise ProgrammingError(
            f"DECIMAL({', '.join(map(str, args))}): want 1 <= precision and 0 <= scale <= precision"
        )


def _show(value: Any) -> str:
    try:
        return dumps_text(value)
    except DataError:
        return repr(value)


def _fail(value: Any, target: str) -> Any:
    raise DataError(f"cannot cast {kind(value)} {_show(value)} to {target.upper()}")


def _to_int(value: Any, k: str, args: tuple[int, ...]) -> Any:
    if k == BOOL:
        return int(bool(value))
    if k == INT:
        return int(value)
    if k in (DECIMAL, FLOAT):
        if isinstance(value, float) and not math.isfinite(value):
            return _fail(value, INT)
        return int(value)  # truncates toward zero
    if k in TEXTS:
        return _parse_int(text_of(value))
    return _fail(value, INT)


_INT_TEXT = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)\s*")


def _parse_int(text: str) -> int:
    """SQL integer text: decimal digits, or 0x hex / 0b binary, with a sign."""
    match = _INT_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"not an integer: {text!r}")
    sign, digits = match.groups()
    base = {"x": 16, "b": 2}.get(digits[1:2].lower(), 10) if len(digits) > 1 else 10
    number = int(digits[2:] if base != 10 else digits, base)
    return -number if sign == "-" else number


def _to_decimal(value: Any, k: str, args: tuple[int, ...]) -> Any:
    if k == BOOL:
        result = Decimal(int(bool(value)))
    elif k in (INT, DECIMAL):
        result = Decimal(value)
    elif k == FLOAT:
        if not math.isfinite(value):
            return _fail(value, DECIMAL)
        result = Decimal(repr(float(value)))
    elif k in TEXTS:
        result = Decimal(text_of(value).strip())
    else:
        return _fail(value, DECIMAL)
    if args:
        result = _fit_decimal(result, args[0], args[1] if len(args) > 1 else 0)
    return result


def _fit_decimal(number: Decimal, precision: int, scale: int) -> Decimal:
    """DECIMAL(p, s): rounded to s decimals; more than p digits do not fit."""
    from ledger.query.operators import EXACT

    result = number.quantize(Decimal(1).scaleb(-scale), context=EXACT)
    if len(result.as_tuple().digits) > precision and result != 0:
        raise ValueError(f"{number} does not fit DECIMAL({precision}, {scale})")
    return result


def _to_float(value: Any, k: str, args: tuple[int, ...]) -> Any:
    if k == BOOL:
        return float(bool(value))
    if k in NUMBERS:
        return float(value)
    if k in TEXTS:
        return float(text_of(value).strip())
    return _fail(value, FLOAT)


def _to_text(value: Any, k: str) -> str | None:
    if k in TEXTS:
        return text_of(value)
    if k == BOOL:
        return "true" if value else "false"
    if k == INT:
        return str(int(value))
    if k == DECIMAL:
        return str(Decimal(value))
    if k == FLOAT:
        return repr(float(value))
    if k == TIMESTAMP:
        return dumps_text(value)
    return None


def _to_string(value: Any, k: str, args: tuple[int, ...]) -> Any:
    text = _to_text(value, k)
    if text is None:
        return _fail(value, STRING)
    if args and len(text) > args[0]:
        raise ValueError(f"{text!r} is longer than {args[0]} characters")
    return text


def _to_fixed_char(value: Any, k: str, args: tuple[int, ...]) -> Any:
    """CHAR(n): at most n characters, padded with spaces to n (SQL)."""
    return str(_to_string(value, k, args)).ljust(args[0])


def _to_symbol(value: Any, k: str, args: tuple[int, ...]) -> Any:
    text = _to_text(value, k)
    return _fail(value, SYMBOL) if text is None else symbol(text)


def _to_bool(value: Any, k: str, args: tuple[int, ...]) -> Any:
    if k == BOOL:
        return bool(value)
    if k in NUMBERS:
        return value != 0
    if k in TEXTS:  # QLDB Developer Guide, "CAST function": CAST('a' AS BOOLEAN) -- false
        return text_of(value).strip().lower() == "true"
    return _fail(value, BOOL)


def _to_timestamp(value: Any, k: str, args: tuple[int, ...]) -> Any:
    if k == TIMESTAMP:
        return value
    if k in TEXTS:
        return datetimes.to_timestamp(value)
    return _fail(value, TIMESTAMP)


def _to_sequence(target: str) -> Callable[[Any, str, tuple[int, ...]], Any]:
    def convert(value: Any, k: str, args: tuple[int, ...]) -> Any:
        if k not in (LIST, SEXP, BAG):
            return _fail(value, target)
        if target == BAG:
            return Bag(value)
        from amazon.ion.core import IonType

        ion_type = IonType.SEXP if target == SEXP else IonType.LIST
        return IonPyList.from_value(ion_type, list(value))

    return convert


def _to_struct(value: Any, k: str, args: tuple[int, ...]) -> Any:
    return value if isinstance(value, Mapping) else _fail(value, STRUCT)


def _to_lob(target: str) -> Callable[[Any, str, tuple[int, ...]], Any]:
    def convert(value: Any, k: str, args: tuple[int, ...]) -> Any:
        if k not in (BLOB, CLOB):
            return _fail(value, target)
        from amazon.ion.core import IonType
        from amazon.ion.simple_types import IonPyBytes

        ion_type = IonType.BLOB if target == BLOB else IonType.CLOB
        return IonPyBytes.from_value(ion_type, bytes(value))

    return convert


_CASTS: dict[str, Callable[[Any, str, tuple[int, ...]], Any]] = {
    INT: _to_int,
    DECIMAL: _to_decimal,
    FLOAT: _to_float,
    STRING: _to_string,
    SYMBOL: _to_symbol,
    BOOL: _to_bool,
    TIMESTAMP: _to_timestamp,
    LIST: _to_sequence(LIST),
    SEXP: _to_sequence(SEXP),
    BAG: _to_sequence(BAG),
    STRUCT: _to_struct,
    BLOB: _to_lob(BLOB),
    CLOB: _to_lob(CLOB),
    NULL: lambda v, k, a: None,
    MISSING_TYPE: lambda v, k, a: MISSING,
}
