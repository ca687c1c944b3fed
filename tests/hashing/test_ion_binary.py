"""The Ion Hash of Ion binary (ledger/hashing/_binary.c) against its specification
(ledger/hashing/ion_binary.py: decode with amazon.ion, hash the value).

A differential oracle with one allowance: the compiled function may decline (None) where
the specification answers, for bytes not in canonical form; where it answers, it gives
exactly the specification's hash, field values and plain value.  Inputs: hypothesis
values of every Ion type written by amazon.ion's writer and by the ledger's own encoder
(which the compiled path must always answer for: those are the bytes a ledger stores),
the Ion Hash conformance suite, mutated and truncated bytes (malformed input), and every
stored part of a real ledger's blocks.  Then a loop test for references and memory.
Runtime ~20 s.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ion_strategies import ion_values

from ledger import ion
from ledger.errors import DataError
from ledger.hashing import ion_binary, native
from ledger.journal import blocks as stored_blocks

core = native.load("ledger.hashing._binary")
needs_core = pytest.mark.skipif(core is None, reason="the compiled core is not built or forced off")
SOAK = os.environ.get("LEDGER_SOAK") == "1"
FIELDS = ("a", "id", "VIN", "é", "missing")


def _preorder(value: Any, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if type(value) is dict:
        out.append(value)
        for item in value.values():
            _preorder(item, out)
    elif type(value) is list:
        for item in value:
            _preorder(item, out)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal plain values of the same types (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return bool(a == b) and (type(a) is not _dt.datetime or a.tzinfo == b.tzinfo)


def _same_loaded(compiled: Any, pure: Any) -> None:
    """loads_hashed's answers agree: the values, and each struct's hash (by position)."""
    value, hashes = compiled
    pure_value, pure_hashes = pure
    assert _same(value, pure_value), (value, pure_value)
    got = [hashes[id(d)] for d in _preorder(value, [])]
    assert got == [pure_hashes[id(d)] for d in _preorder(pure_value, [])]
    assert len(hashes) == len(got)


def assert_agrees(data: bytes, *, must_answer: bool = False, lazily: bool = False) -> None:
    """The compiled functions answer as the specification does, or decline.  ``lazily``:
    ask the specification only where the compiled one answers (amazon.ion's reader can
    spin for minutes on some damaged bytes)."""
    assert core is not None
    compiled = core.hash_binary(data, FIELDS)
    loaded = core.loads_hashed(data)
    if lazily and compiled is None and loaded is None:
        return
    pure = ion_binary.pure_hash_binary(data, FIELDS)
    if compiled is not None:
        assert pure is not None, f"answered for bytes amazon.ion cannot read: {data.hex()}"
        assert compiled[0] == pure[0], f"hash differs for {data.hex()}"
        assert _same(list(compiled[1]), list(pure[1])), f"field values differ: {data.hex()}"
    elif must_answer:
        assert pure is None, f"declined canonical bytes: {data.hex()}"
    assert core.hash_binary(data) in (None, (pure[0], ()) if pure else None)
    pure_loaded = ion_binary.pure_loads_hashed(data)
    if loaded is not None:
        assert pure_loaded is not None, data.hex()
        _same_loaded(loaded, pure_loaded)
    elif must_answer:
        assert pure_loaded is None, f"loads_hashed declined canonical bytes: {data.hex()}"


def _amazon_binary(value: Any) -> bytes | None:
    out = io.BytesIO()
    try:  # the pure-Python writer: amazon.ion's C writer crashes on some of these values
        simpleion.dump_python(value, out, binary=True)
        data = out.getvalue()
        simpleion.loads(data)
    except Exception:
        return None  # not writable as Ion (a lone surrogate, $10, NaN decimal)
    return data


@needs_core
@settings(max_examples=3000 if SOAK else 500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ion_values)
def test_every_value_amazon_ion_writes_hashes_alike(value: Any) -> None:
    data = _amazon_binary(value)
    if data is not None:
        assert_agrees(data)


# Documents as users store them: what the ledger's encoder writes, the compiled path
# must always read (a refusal would send every revision to the slow path).
_keys = st.sampled_from(["a", "id", "VIN", "é", "x\x0b", "Owners", "n"])
# Years 2..9998: 0001-01-01T00:00+05:30 is year 0 in UTC, which Ion cannot write (the
# ledger refuses such a value with DataError: test_a_moment_before_year_one_is_refused).
_stamps = st.builds(
    _dt.datetime,
    st.integers(2, 9998), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
    st.integers(0, 59), st.integers(0, 59), st.integers(0, 999_999),
    st.sampled_from([_dt.UTC, _dt.timezone(_dt.timedelta(hours=5, minutes=30)), None]),
)
_leaves = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.none(), st.binary(max_size=20),
    st.floats(), st.decimals(allow_nan=False, allow_infinity=False, places=3), _stamps,
    st.sampled_from([ion.timestamp_of_ms(0), ion.timestamp_of_ms(1_700_000_000_123),
                     Decimal("-0"), Decimal("0.00"), Decimal("1E+5"), 2**64, -(2**70)]),
)
documents = st.recursive(
    _leaves,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(_keys, children, max_size=5)),
    max_leaves=20,
)


def test_a_moment_before_year_one_is_refused() -> None:
    early = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone(_dt.timedelta(hours=5, minutes=30)))
    for dumps in (ion.dumps, ion.pure_dumps):
        with pytest.raises(DataError, match="cannot encode"):
            dumps({"a": early})


@needs_core
@settings(max_examples=1000 if SOAK else 300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, documents, max_size=6))
def test_documents_the_ledger_writes_are_always_answered(doc: dict[str, Any]) -> None:
    for data in (ion.dumps(doc), ion.pure_dumps(doc)):
        assert_agrees(data, must_answer=True)
        assert core is not None
        answered = core.hash_binary(data, FIELDS)
        assert answered is not None and answered[0] == ion_binary.pure_hash_binary(data)[0]


@needs_core
@settings(max_examples=2000 if SOAK else 400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, documents, max_size=4), st.data())
def test_damaged_bytes_are_declined_or_hashed_alike(doc: dict[str, Any], data: Any) -> None:
    """Malformed input: a byte changed, bytes cut off or inserted — never a crash, never
    an answer the specification does not give."""
    raw = bytearray(ion.dumps(doc))
    at = data.draw(st.integers(0, len(raw) - 1))
    how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if how == "flip":
        raw[at] = data.draw(st.integers(0, 255))
    elif how == "cut":
        del raw[at:]
    else:
        raw[at:at] = bytes([data.draw(st.integers(0, 255))])
    assert_agrees(bytes(raw), lazily=True)


@needs_core
@pytest.mark.parametrize(
    "data",
    [
        b"", b"\xe0\x01\x00", b"\xe0\x01\x00\xea", b"\xe0\x01\x00\xea\x21\x01\x21\x02",
        b"\xe0\x01\x00\xea\x21\x00",  # an int with a leading zero byte
        b"\xe0\x01\x00\xea\x30",  # negative zero int
        b"\xe0\x01\x00\xea\x48" + bytes(8),  # +0e0 in eight bytes
        b"\xe0\x01\x00\xea\x44\x3f\x80\x00\x00",  # a 32-bit float
        b"\xe0\x01\x00\xea\x51\x80",  # 0d0 with an explicit exponent
        b"\xe0\x01\x00\xea\x52\x80\x00",  # a +0 coefficient written out
        b"\xe0\x01\x00\xea\x52\xc2\x80",  # -0.00
        b"\xe0\x01\x00\xea\x68\x80\x0f\xe5\x82\x9e\x80\x80\x80",  # 30 February
        b"\xe0\x01\x00\xea\x69\x80\x0f\xe5\x81\x81\x80\x80\x80\xc3",  # ms precision, .000
        b"\xe0\x01\x00\xea\x6a\x80\x0f\xe5\x81\x81\x80\x80\x80\xc3\x00",  # .000 padded
        b"\xe0\x01\x00\xea\x82\xc3\x28",  # invalid UTF-8
        b"\xe0\x01\x00\xea\x83\xed\xa0\x80",  # a surrogate in UTF-8
        b"\xe0\x01\x00\xea\xd3\x8a\x21\x01",  # {name: 1}: a system symbol as field name
        b"\xe0\x01\x00\xea\xd3\xe4\x21\x01",  # a field named by an undefined symbol
        b"\xe0\x01\x00\xea\xd2\x80\x0f",  # a field named $0
        b"\xe0\x01\x00\xea\xe4\x81\x84\x21\x01",  # name::1
        b"\xe0\x01\x00\xea\xe3\x81\x84\x00",  # an annotation on padding
        b"\xe0\x01\x00\xea\x3f", b"\xe0\x01\x00\xea\xef", b"\xe0\x01\x00\xea\xff",
        b"\xe0\x01\x00\xea\x0f", b"\xe0\x01\x00\xea\x1f", b"\xe0\x01\x00\xea\xdf",
        b"\xe0\x01\x00\xea\x01\x00\x21\x01",  # padding before the value
        b"\xe0\x01\x00\xea\xd1\x82\x84\x20",  # the sorted-struct form
    ],
)
def test_edge_bytes(data: bytes) -> None:
    assert_agrees(data)


@needs_core
def test_the_ion_hash_conformance_suite_hashes_alike() -> None:
    from hashkit import VECTORS

    suite = VECTORS / "ion-hash" / "ion_hash_tests.ion"
    if not suite.is_file():
        pytest.skip("../shared/vectors not present")
    cases = simpleion.load_python(io.StringIO(suite.read_text("utf-8")), single_value=False)
    answered = 0
    for case in cases:
        if "10n" in case:
            data = b"\xe0\x01\x00\xea" + bytes(case["10n"])
        else:
            data = _amazon_binary(case["ion"])
        if data is not None:
            assert_agrees(data)
            answered += core is not None and core.hash_binary(data) is not None
    assert answered >= 100


@needs_core
def test_every_stored_part_of_a_real_ledger_is_answered(tmp_path: Path) -> None:
    import ledger

    with ledger.connect(str(tmp_path / "l.ledger")) as db:
        db.execute("CREATE TABLE t")
        db.execute("CREATE INDEX ON t (k)")
        for i in range(12):
            db.execute("INSERT INTO t ?", [{"k": i, "d": Decimal(f"{i}.50"), "s": "x" * i,
                                            "when": _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)},
                                           {"k": f"v{i}", "l": [1, {"a": None}]}])
        db.execute("UPDATE t SET k = 100 WHERE k = 3")
        db.execute("DELETE FROM t WHERE k = 4")
        txn = db.journal.store.read()
        try:
            raws = [raw for _, raw in txn.range("blocks")]
        finally:
            txn.close()
    assert len(raws) > 12
    for raw in raws:
        envelope, parts = stored_blocks.split(raw)
        assert_agrees(envelope)
        for _, data in parts:
            assert_agrees(data, must_answer=True)


def _rss_pages() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1])


@needs_core
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_many_calls_grow_no_references_or_memory() -> None:
    assert core is not None
    doc = {"VIN": "1N4AL11D7", "a": [1, 2.5, b"x", True, {"id": "z"}],
           "t": ion.timestamp_of_ms(1_700_000_000_123), "d": Decimal("1.25")}
    good = [ion.dumps(doc), ion.dumps({"id": "x", "n": [{"m": ion.timestamp_of_ms(5)}]})]
    bad = [b"\xe0\x01\x00\xea\x82\xc3\x28", good[0][:-3], b"junk"]
    fields = ("VIN", "a")
    before = [sys.getrefcount(x) for x in (*good, *bad, *fields)]
    calls = 400_000 if SOAK else 40_000

    def run(n: int) -> None:
        for _ in range(n):
            for data in good + bad:
                core.hash_binary(data, fields)
                core.loads_hashed(data)

    run(500)
    rss = _rss_pages()
    run(calls // 10)
    grown_kib = (_rss_pages() - rss) * os.sysconf("SC_PAGE_SIZE") // 1024
    assert [sys.getrefcount(x) for x in (*good, *bad, *fields)] == before
    if "ASAN_OPTIONS" in os.environ:
        return
    assert grown_kib < 2048, f"resident memory grew {grown_kib} KiB over {calls} calls"


def test_the_twin_in_use_is_the_compiled_one_where_built() -> None:
    if native.pure_python_forced() or core is None:
        assert ion_binary.hash_binary is ion_binary.pure_hash_binary
        return
    assert ion_binary.compiled and ion_binary.hash_binary is core.hash_binary
