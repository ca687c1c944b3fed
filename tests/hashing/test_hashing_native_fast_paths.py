"""The compiled core's short cuts, each against the pure-Python specification.

ledger/hashing/_native.c special-cases what the G4 profile named: SHA-256 by whole blocks
with its own padding (inputs of 4 KiB and less; longer ones stream), the marker scan 16
bytes at a time with an eight-byte test for short runs, escaping by 16-byte blocks,
an insertion sort for structs of up to 16 fields, an IonPyList iterated without a copy,
and one serialization buffer reused between calls.  Each test walks the boundaries of one
short cut: every length around the SHA-256 block and padding edges, a marker at every
position of runs of every short length, struct sizes either side of the sort's switch,
and a value whose hashing runs Python code that hashes (the nested call must not share
the reused buffer).  Known answers: hashlib.sha256 and the pure-Python core.  ~2 s.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
from decimal import Decimal
from typing import Any

import pytest
from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyDict, IonPyList, IonPyText

from ledger.hashing import native

ion_hash_module = importlib.import_module("ledger.hashing.ion_hash")
dot_module = importlib.import_module("ledger.hashing.dot")
core = native.core
pytestmark = pytest.mark.skipif(core is None, reason="the compiled core is not built or forced off")

MARKERS = (0x0B, 0x0C, 0x0E)


def assert_alike(value: Any) -> None:
    assert core is not None
    serialization = ion_hash_module.pure_ion_hash_serialization(value)
    assert core.ion_hash_serialization(value) == serialization, repr(value)
    assert core.ion_hash(value) == hashlib.sha256(serialization).digest(), repr(value)
    assert core.ion_hash(value) == ion_hash_module.pure_ion_hash(value)


def test_sha256_by_blocks_at_every_length_around_the_padding_edges() -> None:
    """A blob's s(v) is its bytes + 3: lengths 0..300 cover 55/56/63/64-byte tails,
    and 4088..4101 the switch from whole blocks to streaming (4096).  A field's hash
    input (s("f") ‖ s(value), n + 7 bytes) is padded in place in the buffer: the same
    edges, and a field at the end of a buffer about to grow."""
    for n in [*range(0, 300), *range(4088, 4102), 70_000]:
        assert_alike(bytes(range(256)) * (n // 256) + bytes(n % 256))
        assert_alike({"f": "x" * n})
        assert_alike({"a": "y" * (250 - n % 64), "f": "x" * n, "z": [n, {"f": "x" * n}]})


def test_dot_and_merkle_by_blocks_match_hashlib() -> None:
    """dot(a, b) is SHA256 of the two 32-byte hashes in QLDB's order: one data block and
    the constant padding block."""
    assert core is not None
    hashes = [hashlib.sha256(bytes([i])).digest() for i in range(33)]
    for a, b in zip(hashes, hashes[1:], strict=False):
        assert core.dot(a, b) == dot_module.pure_dot(a, b)
        assert core.dot(a, b) in (hashlib.sha256(a + b).digest(), hashlib.sha256(b + a).digest())
    merkle = importlib.import_module("ledger.hashing.merkle")
    for n in (1, 2, 3, 33):
        assert core.merkle_root(hashes[:n]) == merkle.pure_merkle_root(hashes[:n])


@pytest.mark.parametrize("length", range(1, 40))
def test_a_marker_at_every_position_of_every_short_run(length: int) -> None:
    """Runs under 16 bytes take the eight-byte test; 16 and up the 16-byte blocks and the
    last block's mask.  Markers and their neighbours (0x0A, 0x0D, 0x0F, 0x8B) everywhere."""
    for position in range(length):
        for byte in (*MARKERS, 0x0A, 0x0D, 0x0F, 0x8B, 0x1B):
            data = bytearray(b"a" * length)
            data[position] = byte
            assert_alike(bytes(data))
            assert_alike(data.decode("latin-1"))  # a str: its UTF-8 is escaped too
    every = bytes([MARKERS[i % 3] for i in range(length)])
    assert_alike(every)


@pytest.mark.parametrize("fields", [0, 1, 2, 3, 15, 16, 17, 40])
def test_structs_either_side_of_the_insertion_sort_limit(fields: int) -> None:
    plain = {f"k{i}": i for i in range(fields)}
    assert_alike(plain)
    same_prefix = {f"p{i}": "v" * 50 for i in range(fields)}  # hashes differing late
    assert_alike(same_prefix)
    ion = IonPyDict.from_value(IonType.STRUCT, plain)
    for _ in range(fields):  # repeated names: equal field hashes sort stably either way
        ion.add_item("dup", IonPyText.from_value(IonType.STRING, "same"))
    assert_alike(ion)


def test_an_ion_list_is_hashed_as_its_items_without_a_copy() -> None:
    items = [1, "a", Decimal("1.5"), [2, 3], {"b": None}]
    ion_list = IonPyList.from_value(IonType.LIST, items)
    sexp = IonPyList.from_value(IonType.SEXP, items, ("note",))
    assert_alike(ion_list)
    assert_alike(sexp)
    assert_alike(IonPyList.from_value(IonType.LIST, []))


class _HashingOffset(_dt.tzinfo):
    """A tzinfo whose utcoffset() hashes a big value: a call nested inside a hash."""

    def utcoffset(self, when: _dt.datetime | None) -> _dt.timedelta:
        assert core is not None
        core.ion_hash({"inner": "y" * 5000, "list": list(range(100))})
        return _dt.timedelta(hours=2)

    def dst(self, when: _dt.datetime | None) -> _dt.timedelta:
        return _dt.timedelta(0)


def test_a_nested_call_keeps_its_own_buffer() -> None:
    when = _dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=_HashingOffset())
    value = {"a": "x" * 300, "when": when, "b": ["z" * 200, when]}
    assert_alike(value)
    assert_alike([value, "after"])
