"""The compiled document decoder (ledger/_ion_decode.c) against amazon.ion's C reader.

A differential oracle: ``ledger.ion.pure_loads_document`` (amazon.ion in the MAY_BE_BARE
value model, the specification) and the compiled ``loads`` must give the same objects,
compared by exact Python type, ``ion_type``, annotations, timestamp precision and the
Ion binary of both, for every document the compiled one decodes; for the rest it must
decline (return NotImplemented).  Inputs: generated values of every Ion type, the
benchmark documents, the stored documents and block envelopes of a real ledger, and
malformed or truncated bytes (both paths raise DataError, nothing crashes).  ~10 s.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from amazon.ion.core import Timestamp
from amazon.ion.simple_types import IonPyDict, IonPyNull
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ion_strategies import ion_values

from ledger import ion
from ledger.errors import DataError
from ledger.hashing import native

SOAK = os.environ.get("LEDGER_SOAK") == "1"
compiled = ion._compiled_loads
needs_core = pytest.mark.skipif(compiled is None, reason="the compiled core is not built or forced off")


def assert_same(got: Any, want: Any, where: str = "$") -> None:
    """``got`` and ``want`` are the same objects: type, Ion type, annotations, value."""
    assert type(got) is type(want), f"{where}: {type(got).__name__} != {type(want).__name__}"
    for name in ("ion_type", "ion_annotations"):
        assert getattr(got, name, None) == getattr(want, name, None), f"{where}: {name}"
    if isinstance(want, IonPyDict):
        g, w = list(got._IonPyDict__store.items()), list(want._IonPyDict__store.items())
        assert [k for k, _ in g] == [k for k, _ in w], f"{where}: field names"
        assert all(type(k) is str for k, _ in g)
        for (name, gv), (_, wv) in zip(g, w, strict=True):
            assert len(gv) == len(wv), f"{where}.{name}: repeats"
            for a, b in zip(gv, wv, strict=True):
                assert_same(a, b, f"{where}.{name}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{where}: length"
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(want, float):
        assert (math.isnan(got) and math.isnan(want)) or math.copysign(1, got) == math.copysign(1, want)
        assert math.isnan(want) or got == want, f"{where}: {got!r} != {want!r}"
    elif isinstance(want, Timestamp):
        assert repr(got) == repr(want), where
        for name in ("precision", "fractional_precision", "fractional_seconds"):
            assert getattr(got, name, None) == getattr(want, name, None), f"{where}: {name}"
        assert got.utcoffset() == want.utcoffset(), where
    elif want is not None and not isinstance(want, IonPyNull):
        assert repr(got) == repr(want), f"{where}: {got!r} != {want!r}"


def assert_same_decoding(data: bytes, *, reencode: bool = True) -> bool:
    """Whatever the compiled decoder returns, amazon.ion returns alike; True if it decoded.
    ``reencode=False`` skips comparing the Ion of both (amazon.ion's writer takes minutes
    over decimals with exponents in the thousands)."""
    assert compiled is not None
    got = compiled(data)
    if got is NotImplemented:
        return False
    want = ion.pure_loads_document(data)
    assert_same(got, want)
    if reencode:
        assert ion.pure_dumps(got) == ion.pure_dumps(want)
    return True


def _symbol_table_end(data: bytes) -> int:
    """Where the value starts: after the version marker and the local symbol table (an
    annotation wrapper whose length is in its low nibble, or a VarUInt after it)."""
    at = 4
    if len(data) <= at or data[at] >> 4 != 0xE:
        return at
    length, at = data[at] & 0x0F, at + 1
    if length == 14:
        length = 0
        while at < len(data):
            length, at = (length << 7) | (data[at] & 0x7F), at + 1
            if data[at - 1] & 0x80:
                break
    return at + length


def _encoded(value: Any) -> bytes:
    """The value's Ion binary from the compiled encoder (amazon.ion's writer, its twin,
    loops or fails on some generated values: huge exponents, lone surrogates)."""
    data = ion._compiled_dumps(value) if ion._compiled_dumps is not None else None
    assume(data is not None)
    assert data is not None
    return data


def test_the_decoder_is_built_with_the_hashing_core() -> None:
    assert (compiled is None) == (native.core is None)


@needs_core
@settings(max_examples=2000 if SOAK else 500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ion_values)
def test_every_value_decodes_alike_or_is_left_to_amazon_ion(value: Any) -> None:
    assert_same_decoding(_encoded(value))


@needs_core
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ion_values, st.data())
def test_malformed_bytes_raise_data_error_on_both_paths(value: Any, data: st.DataObject) -> None:
    """Truncated or corrupted bytes: the compiled decoder declines (or decodes what
    amazon.ion decodes alike); loads_document raises DataError exactly when amazon.ion does."""
    good = _encoded(value)
    cut = data.draw(st.integers(0, len(good)))
    # amazon.ion 0.15.0's reader never returns on some local symbol tables with a
    # changed byte (e.g. e00100eaeb8183d887b681785fc3a980de908a220b0e8b108c483fe333...:
    # a decimal overrunning the symbols list), and the compiled decoder leaves symbol
    # tables it cannot read to amazon.ion: changed bytes go into the value only.
    start = min(_symbol_table_end(good), len(good) - 1)
    flip = data.draw(st.integers(start, max(start, len(good) - 1)))
    byte = data.draw(st.integers(0, 255))
    for bad in (good[:cut], good[:flip] + bytes([byte]) + good[flip + 1 :], good + good[4:]):
        try:
            want: Any = ion.pure_loads_document(bad)
        except DataError:
            want = DataError
        try:
            got: Any = ion.loads_document(bad)
        except DataError:
            got = DataError
        if want is DataError or got is DataError:
            assert got is want, f"{bad.hex()}: compiled {got!r}, amazon.ion {want!r}"
        else:
            assert_same(got, want)


@needs_core
@pytest.mark.parametrize(
    "text",
    [
        "null", "null.int", "null.struct", "null.bool", "true", "false", "0", "-1", "2" * 40,
        "-" + "9" * 40, "1.5e0", "nan", "-inf", "0e0", "-0e0", "0.", "-0.0", "1d5", "1.00",
        "0d-3", "12345678901234567890.5", '""', '"é"', "sym", "$0", "2020T",
        "2020-01-01T00:00:00.123456789-07:30", "{{}}", "{{aGk=}}", "[]", "{}",
        "{a:1,a:2,b:[{c:null.string}]}", "a::1", "(a b)", '{{"c"}}', "[a::b::null]",
        '$ion_symbol_table::{symbols:["x","y"]} {x:y}',
    ],
)
def test_edges(text: str) -> None:
    assert_same_decoding(ion.pure_dumps(ion.loads(text)))


@needs_core
def test_deep_nesting_is_left_to_amazon_ion_never_crashes() -> None:
    value: Any = 1
    for _ in range(300):
        value = [value]
    data = ion.pure_dumps(value)
    assert compiled is not None
    assert compiled(data) is NotImplemented
    assert_same(ion.loads_document(data), ion.pure_loads_document(data))


@needs_core
def test_benchmark_documents_stored_documents_and_blocks_decode_alike(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from bench.docs import documents
    finally:
        sys.path.remove(str(root))
    for doc in documents(300):
        assert assert_same_decoding(ion.dumps(doc))
    import ledger
    from ledger.journal import blocks

    with ledger.connect(str(tmp_path / "l.ledger")) as db:
        db.execute("CREATE TABLE t")
        for doc in documents(30):
            db.execute("INSERT INTO t ?", doc)
        db.execute("UPDATE t SET Year = 2000")
        tip = db.digest().tip.sequence_no
        for seq in range(tip + 1):
            block, _ = db.get_block(seq)
            stored = blocks.encode(block)
            envelope, parts = blocks.envelope(stored, ion.loads)
            assert assert_same_decoding(ion.dumps(envelope))
            for revision in block["revisions"]:
                if "data" in revision:
                    assert assert_same_decoding(ion.dumps(revision["data"]))


@needs_core
def test_no_reference_growth() -> None:
    assert compiled is not None
    data = ion.dumps({"name": "x", "n": 10**30, "l": [1.5, None, True, b"z", "s"],
                      "t": ion.timestamp_of_ms(1_600_000_000_000)})
    declined = ion.pure_dumps(ion.loads("a::1"))
    before = [sys.getrefcount(x) for x in (data, declined, "name")]
    for _ in range(200_000 if SOAK else 20_000):
        compiled(data)
        compiled(declined)
    assert [sys.getrefcount(x) for x in (data, declined, "name")] == before


# -- timestamps and decimals are the decoder's own: none is left to amazon.ion ---------------
from ion_strategies import _timestamps  # noqa: E402


@needs_core
@settings(max_examples=1000 if SOAK else 300, deadline=None)
@given(_timestamps())
def test_every_timestamp_the_ledger_writes_is_decoded_in_c(value: Any) -> None:
    data = ion.dumps({"t": value, "l": [value]})
    assert assert_same_decoding(data), f"declined {value!r}: {data.hex()}"


@needs_core
@settings(max_examples=1000 if SOAK else 300, deadline=None)
@given(st.integers(-(10**60), 10**60), st.integers(-6176, 6111), st.booleans())
def test_every_decimal_decq_holds_is_decoded_in_c(coefficient: int, exponent: int, negative_zero: bool) -> None:
    from decimal import Decimal

    value = Decimal((1, (0,), exponent)) if negative_zero else Decimal(coefficient).scaleb(exponent)
    data = _binary_decimal(exponent, abs(coefficient) if not negative_zero else 0,
                           negative_zero or coefficient < 0)
    assert assert_same_decoding(data, reencode=False), f"declined {value!r}: {data.hex()}"


def _varuint(n: int) -> bytes:
    out = [n & 0x7F | 0x80]
    n >>= 7
    while n:
        out.append(n & 0x7F)
        n >>= 7
    return bytes(reversed(out))


def _varint(n: int, negative_zero: bool = False) -> bytes:
    magnitude = abs(n)
    groups = [magnitude & 0x7F]
    magnitude >>= 7
    while magnitude:
        groups.append(magnitude & 0x7F)
        magnitude >>= 7
    if groups[-1] & 0x40:
        groups.append(0)
    if n < 0 or negative_zero:
        groups[-1] |= 0x40
    groups[0] |= 0x80
    return bytes(reversed(groups))


def _magnitude(n: int, negative: bool) -> bytes:
    if n == 0 and not negative:
        return b""
    raw = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return bytes([raw[0] | 0x80]) + raw[1:] if negative else raw


def _typed(type_nibble: int, body: bytes) -> bytes:
    head = bytes([type_nibble << 4 | len(body)]) if len(body) < 14 else bytes(
        [type_nibble << 4 | 14]) + _varuint(len(body))
    return b"\xe0\x01\x00\xea" + head + body


def _binary_decimal(exponent: int, coefficient: int, negative: bool) -> bytes:
    return _typed(5, _varint(exponent) + _magnitude(coefficient, negative))


def _binary_timestamp(offset: int | None, fields: list[int],
                      fraction: tuple[int, int, bool] | None = None) -> bytes:
    body = _varint(0, True) if offset is None else _varint(offset)
    body += b"".join(_varuint(f) for f in fields)
    if fraction is not None:
        exponent, coefficient, negative = fraction
        body += _varint(exponent) + _magnitude(coefficient, negative)
    return _typed(6, body)


# Hand-made timestamps and decimals at the edges of amazon.ion's reader (found by probing
# amazon-ion 0.15.0): offsets ignored below minute precision, hour 24 and minute 60
# accepted, a tenth fractional digit refused, decQuad's exponent range, ...  Whatever the
# compiled decoder does with each, loads_document must give what amazon.ion gives.
_EDGE_TIMESTAMPS = [
    (None, [2020]), (0, [2020]), (60, [2020]), (60, [2020, 2, 3]), (None, [2020, 2, 3, 4, 5]),
    (90, [2020, 2, 3, 4, 5]), (-450, [2020, 1, 1, 0, 5, 6]), (1439, [2020, 2, 3, 4, 5]),
    (1440, [2020, 2, 3, 4, 5]), (-1440, [2020, 2, 3, 4, 5]), (-1439, [2020, 2, 3, 4, 5]),
    (0, [2020, 2, 3, 4, 5, 6], (-3, 5, False)), (0, [2020, 2, 3, 4, 5, 6], (-3, 0, False)),
    (0, [2020, 2, 3, 4, 5, 6], (-3, 0, True)), (0, [2020, 2, 3, 4, 5, 6], (0, 0, False)),
    (0, [2020, 2, 3, 4, 5, 6], (0, 0, True)), (0, [2020, 2, 3, 4, 5, 6], (1, 0, False)),
    (0, [2020, 2, 3, 4, 5, 6], (-3, 1000, False)), (0, [2020, 2, 3, 4, 5, 6], (-3, 5, True)),
    (0, [2020, 2, 3, 4, 5, 6], (-9, 123456789, False)), (0, [2020, 2, 3, 4, 5, 6], (-10, 1234567891, False)),
    (0, [2020, 2, 3, 4, 5, 6], (-12, 123456789123, False)), (0, [2020, 2, 3, 4, 5, 6], (-7, 5, False)),
    (0, [2020, 2, 3, 4, 5, 6], (-9, 5, False)), (0, [2020, 2, 3, 4, 5, 6], (-6, 999999, False)),
    (0, [2020, 2, 3, 4, 5, 6], (-1, 0, False)), (0, [2020, 2, 3, 4, 5, 6], (-20, 5, False)),
    (0, [2020, 2, 3, 4, 5, 6], (0, 5, False)), (0, [2020, 13, 3]), (0, [2020, 2, 30]),
    (0, [2020, 2, 3, 24, 0]), (0, [2020, 2, 3, 4, 60]), (0, [2020, 2, 3, 4, 5, 60]), (0, [0]),
    (0, [10000]), (-60, [1, 1, 1, 0, 30]), (60, [9999, 12, 31, 23, 30]), (None, [2020, 2, 3, 4]),
    (0, [2020, 0, 3]), (0, [2020, 2, 0]), (0, [2020, 2, 29, 0, 0]), (0, [2021, 2, 29]),
    (0, [2020, 2, 3, 4, 5, 6], (-6, 1000000, False)), (-1, [1, 1, 1, 0, 0]), (1, [9999, 12, 31, 23, 59]),
]
_EDGE_DECIMALS = [
    (0, 0, False), (-3, 0, True), (0, 5, True), (2, 7, False), (-2, 10**34 - 1, False),
    (-2, 10**34 + 1, False), (-2, 2**200, True), (6111, 1, False), (6112, 1, False),
    (-6176, 1, False), (-6177, 1, False), (7000, 1, False), (6144, 10**33, False),
    (-6177, 10**33, False), (6111, 10**40, False), (-6200, 10**40, False),
]


def _outcome(decode: Any, data: bytes) -> Any:
    try:
        return decode(data)
    except DataError:
        return DataError


@needs_core
@pytest.mark.parametrize(
    "data",
    [_binary_timestamp(*case) for case in _EDGE_TIMESTAMPS]  # type: ignore[arg-type]
    + [_binary_decimal(*case) for case in _EDGE_DECIMALS],
)
def test_edge_timestamps_and_decimals_decode_as_amazon_ion_does(data: bytes) -> None:
    want = _outcome(ion.pure_loads_document, data)
    got = _outcome(ion.loads_document, data)
    if want is DataError:
        assert got is DataError
        assert compiled is not None and compiled(data) is NotImplemented
    else:
        assert_same(got, want)
        assert_same_decoding(data, reencode=False)
