"""The short cuts ion_hash takes for speed agree with its general paths and the oracles.

The struct and list loops serialize strings inline, the string-field heads are cached,
and decimals, ints and whole-second timestamps have fast paths: each is checked here at
its edges (marker bytes that need escaping, cache overflow, names that are not text).
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.core import IonType, Timestamp, TimestampPrecision
from amazon.ion.simple_types import IonPyDict, IonPyList, IonPyText
from amazon.ion.symbols import SymbolToken
from hashkit import IdentityHash
from test_hashing_ion_hash import _escape, _expected_scalar

from ledger.hashing import ion_hash, ion_hash_serialization


def _stored(value: Any) -> Any:
    """``value`` as amazon.ion reads it back (IonPy* types)."""
    return simpleion.loads(simpleion.dumps(value))


@pytest.mark.parametrize(
    "text",
    ["plain", "", "tab\there", "\x0b\x0c\x0e", "new\nline", "é ü 中", "\u2028", "a\x00b"],
    ids=repr,
)
def test_string_fields_and_items_match_the_general_path(text: str) -> None:
    doc = {"s": text, "l": [text, 1, text]}
    expected = ion_hash_serialization(text, IdentityHash)
    assert ion_hash_serialization([text], IdentityHash) == b"\x0b\xb0" + expected + b"\x0e"
    assert ion_hash(doc) == ion_hash(_stored(doc))
    field = _escape(b"\x0b\x70s\x0e" + expected)  # the identity hash of the one field
    assert ion_hash_serialization({"s": text}, IdentityHash) == b"\x0b\xd0" + field + b"\x0e"


def test_ion_text_that_is_not_a_plain_string_leaves_the_short_cut() -> None:
    symbol = IonPyText.from_value(IonType.SYMBOL, "abc")
    annotated = IonPyText.from_value(IonType.STRING, "abc", ("a",))
    for value in (symbol, annotated):
        struct = IonPyDict()
        struct.add_item("f", value)
        items = IonPyList.from_value(IonType.LIST, [value])
        assert ion_hash(struct) == ion_hash(_stored({"f": value}))
        assert ion_hash(items) == ion_hash(_stored([value]))
    assert ion_hash({"f": symbol}) == ion_hash(simpleion.loads("{f: abc}"))
    assert ion_hash({"f": annotated}) == ion_hash(simpleion.loads('{f: a::"abc"}'))
    assert ion_hash([annotated]) != ion_hash(["abc"])


def test_string_heads_do_not_mix_names_or_types() -> None:
    by_token = IonPyDict()
    by_token.add_item(SymbolToken("a", None), "x")
    assert ion_hash(by_token) == ion_hash({"a": "x"})
    sid0 = IonPyDict()
    sid0.add_item(None, "x")
    assert ion_hash_serialization(sid0, IdentityHash).hex(" ") == (
        "0b d0 0c 0b 71 0c 0e 0c 0b 80 78 0c 0e 0e"
    )
    assert ion_hash({"a": "1"}) != ion_hash({"a": 1}) != ion_hash({"b": "1"})


def test_many_string_fields_overflow_the_head_cache_safely() -> None:
    doc = {f"name{i}": f"value{i}" for i in range(9000)}
    first = ion_hash(doc)
    assert ion_hash(doc) == first
    assert ion_hash({"name1": "value1"}) == ion_hash(simpleion.loads('{name1: "value1"}'))


@pytest.mark.parametrize(
    "text",
    [
        "0.11", "0.12", "0.14", "11", "2828", "12.0", "99999.99", "1" + "0" * 40,
        "0." + "1" * 63, "0." + "1" * 64, "-0.11", "0.00", "-0", "1E+3", "123456.789E-70",
    ],
)  # fmt: skip
def test_decimal_fast_path_matches_the_ion_binary_writer(text: str) -> None:
    d = Decimal(text)
    assert ion_hash_serialization(d) == _expected_scalar(d)
    if len(d.as_tuple().digits) <= 34:  # amazon.ion's C writer rounds longer ones
        assert ion_hash(d) == ion_hash(_stored(d))


@pytest.mark.parametrize("n", [1025, 2828, 0x0B0C0E, 0x0E0000, 2**64 + 11, -1025, -0x0B0C])
def test_int_fast_path_matches_the_ion_binary_writer(n: int) -> None:
    assert ion_hash_serialization(n) == _expected_scalar(n)
    assert ion_hash(n) == ion_hash(_stored(n))


@pytest.mark.parametrize("year", [1, 11, 127, 128, 1408, 1500, 1919, 1920, 2024, 9999])
@pytest.mark.parametrize("digits", [0, 3, 6])
def test_timestamp_fast_paths_match_the_ion_binary_writer(year: int, digits: int) -> None:
    micro = {0: 0, 3: 123000, 6: 123456}[digits]
    value = Timestamp(
        year, 11, 14, 11, 12, 14, micro, _dt.UTC,
        precision=TimestampPrecision.SECOND, fractional_precision=digits,
    )  # fmt: skip
    assert ion_hash_serialization(value) == _expected_scalar(value)
    assert ion_hash(value) == ion_hash(_stored(value))
