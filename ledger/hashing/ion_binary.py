"""The Ion Hash of a value given as Ion binary, for readers that need the hash more than
the value (``verify`` hashes every revision of the journal).

``hash_binary(data, fields)`` is ``(ion_hash(v), (v[f] for f in fields))`` of the one
value ``v`` that ``data`` holds; ``loads_hashed(data)`` is ``v`` as plain Python values
with the Ion Hash of each struct in it.  This module is their specification: it decodes
with amazon.ion and hashes the decoded value.  The compiled twin
(``ledger/hashing/_binary.c``) walks the bytes instead, hashing each scalar's bytes as they
stand, so it answers only for bytes in canonical form (as every Ion writer writes them);
for anything else it returns None, and the caller decodes as before.  Either way an
answer is never a different hash from the one the decoded value has
(tests/hashing/test_ion_binary.py runs both).

Plain values (``loads_hashed``, and the field values of ``hash_binary``): dict (struct),
list, str, int, float, bool, bytes (blob), and ``datetime`` in UTC for a timestamp that is
UTC with millisecond precision (QLDB's txTime and blockTimestamp).  A value holding
anything else (annotations, nulls, symbols, decimals, other timestamps, clobs, sexps, a
repeated field name) has no plain form: ``loads_hashed`` returns None for it, and
``hash_binary`` gives ``...`` (Ellipsis) for such a field; None for a field not there.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, cast

from amazon.ion import simpleion
from amazon.ion.core import IonType, Timestamp, TimestampPrecision
from amazon.ion.simple_types import IonPyDict

from ledger.hashing import native
from ledger.hashing.ion_hash import ion_hash

Hashed = tuple[bytes, tuple[Any, ...]]
Loaded = tuple[Any, dict[int, bytes]]


class _NoPlainForm(Exception):
    pass


def _decode(data: bytes) -> Any:
    """The one value of ``data`` as amazon.ion values, or raises."""
    if not isinstance(data, bytes | bytearray | memoryview) or bytes(data[:4]) != b"\xe0\x01\x00\xea":
        raise ValueError("not binary Ion")
    return simpleion.loads(bytes(data))


def pure_hash_binary(data: bytes, fields: tuple[str, ...] = ()) -> Hashed | None:
    try:
        value = _decode(data)
        digest = ion_hash(value)
    except Exception:  # noqa: BLE001 - bytes that do not decode or hash: no answer
        return None
    return digest, tuple(_field(value, name) for name in fields)


def _field(value: Any, name: str) -> Any:
    if type(value) is not IonPyDict or value.ion_annotations:
        return ...
    found = value.get_all_values(name) if name in value else []
    if not found:
        return None
    if len(found) > 1:
        return ...
    try:
        return _plain(found[0], None)
    except _NoPlainForm:
        return ...


def pure_loads_hashed(data: bytes) -> Loaded | None:
    try:
        value = _decode(data)
    except Exception:  # noqa: BLE001 - bytes that do not decode: no answer
        return None
    hashes: dict[int, bytes] = {}
    try:
        return _plain(value, hashes), hashes
    except (_NoPlainForm, Exception):  # noqa: BLE001 - a struct that does not hash: no answer
        return None


def _plain(value: Any, hashes: dict[int, bytes] | None) -> Any:
    """The plain form of an amazon.ion value; records each struct's hash in ``hashes``."""
    if getattr(value, "ion_annotations", ()) or value is None:
        raise _NoPlainForm
    t = value.ion_type
    if getattr(value, "is_null", False) or t is IonType.NULL:
        raise _NoPlainForm
    if t is IonType.STRUCT:
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name in out or not isinstance(name, str):
                raise _NoPlainForm
            out[name] = _plain(item, hashes)
        if hashes is not None:
            hashes[id(out)] = ion_hash(value)
        return out
    if t is IonType.LIST:
        return [_plain(item, hashes) for item in value]
    if t is IonType.BOOL:
        return bool(value)
    if t is IonType.INT:
        return int(value)
    if t is IonType.FLOAT:
        return float(value)
    if t is IonType.STRING:
        return str(value)
    if t is IonType.BLOB:
        return bytes(value)
    if t is IonType.TIMESTAMP and _is_utc_ms(value):
        return _dt.datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second,
            value.microsecond, _dt.UTC,
        )
    raise _NoPlainForm


def _is_utc_ms(stamp: Timestamp) -> bool:
    return (
        stamp.precision is TimestampPrecision.SECOND
        and stamp.fractional_precision == 3
        and stamp.utcoffset() == _dt.timedelta(0)
    )


_core = native.load("ledger.hashing._binary")

hash_binary: Callable[..., Hashed | None] = (
    cast(Callable[..., Hashed | None], _core.hash_binary) if _core else pure_hash_binary
)
loads_hashed: Callable[[bytes], Loaded | None] = (
    cast(Callable[[bytes], Loaded | None], _core.loads_hashed) if _core else pure_loads_hashed
)
compiled = _core is not None
