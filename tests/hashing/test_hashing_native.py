"""The compiled core (ledger/hashing/_native.c) against its pure-Python specification.

A differential oracle: every value goes through both cores, which must give the same
bytes, or both refuse it with the same error class.  Inputs: hypothesis-generated values
of every Ion type (plain Python and amazon.ion values, annotations, typed nulls, nested
containers, big integers, decimals with exponents and negative zero, timestamps of every
precision and offset, symbols with unknown text), the official Ion Hash conformance suite,
QLDB's real block and proofs, and whole blocks of a real ledger.  Then a loop test: no
reference or memory growth over many calls (100k here, 1M with LEDGER_SOAK=1; ~3 s).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import io
import json
import os
import shutil
import sys
import sysconfig
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
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
from hashkit import VECTORS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import DataError
from ledger.hashing import merkle, native

# the modules, not the functions the package re-exports under the same names
ion_hash_module = importlib.import_module("ledger.hashing.ion_hash")
dot_module = importlib.import_module("ledger.hashing.dot")

SOAK = os.environ.get("LEDGER_SOAK") == "1"


def _toolchain_present() -> bool:
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return bool(shutil.which("cc") or shutil.which("gcc")) and include.is_file() and Path(
        "/usr/include/openssl/sha.h"
    ).is_file()


def test_the_compiled_core_is_built_where_a_toolchain_exists() -> None:
    """CI builds it from a clean clone: a silent fall-back to pure Python is a defect."""
    if native.pure_python_forced():
        assert native.core is None and native.CORE_NAME == "pure-Python"
        return
    if not _toolchain_present():
        pytest.skip("no C compiler, Python headers or OpenSSL headers: pure-Python core")
    assert native.core is not None, "pip install did not build ledger/hashing/_native.c"
    assert ion_hash_module.ion_hash is native.core.ion_hash


core = native.core
needs_core = pytest.mark.skipif(core is None, reason="the compiled core is not built or forced off")


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except DataError:
        return "error", "DataError"
    except Exception as exc:  # the same non-ledger error from both is also agreement
        return "error", type(exc).__name__


def assert_same_hash(value: Any) -> None:
    assert core is not None
    pure = _outcome(ion_hash_module.pure_ion_hash_serialization, value)
    compiled = _outcome(core.ion_hash_serialization, value)
    assert compiled == pure, f"s(v) differs for {value!r}"
    pure_h = _outcome(ion_hash_module.pure_ion_hash, value)
    assert _outcome(core.ion_hash, value) == pure_h
    if pure[0] == "ok":
        assert pure_h == ("ok", hashlib.sha256(pure[1]).digest())


# --- strategies: every Ion type, plain and amazon.ion ------------------------------------

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


@needs_core
@settings(max_examples=3000 if SOAK else 600, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ion_values)
def test_both_cores_serialize_and_hash_every_value_alike(value: Any) -> None:
    assert_same_hash(value)


@needs_core
@settings(max_examples=200, deadline=None)
@given(ion_values)
def test_values_read_back_by_amazon_ion_hash_alike(value: Any) -> None:
    """The value model the ledger stores and reads: amazon.ion's own decoders."""
    out = io.BytesIO()
    try:  # the pure-Python writer: amazon.ion's C writer crashes on some of these values
        simpleion.dump_python(value, out, binary=True)
        data = out.getvalue()
        simpleion.loads(data)
    except Exception:
        return  # not writable as Ion (a lone surrogate, $10, NaN decimal): hashed above
    assert_same_hash(simpleion.loads(data))
    assert_same_hash(simpleion.loads(data, value_model=simpleion.IonPyValueModel.MAY_BE_BARE))


@needs_core
@pytest.mark.parametrize(
    "value",
    [
        {"a": {"b": [1, Decimal("-0"), Timestamp(2020, 1, 1, precision=TimestampPrecision.YEAR)]}},
        IonPyNull.from_value(IonType.STRUCT, None, ("x",)),
        SymbolToken(None, 10),
        {1: 2},
        object(),
        float("nan"),
        _dt.datetime(1, 1, 1, tzinfo=_dt.timezone(_dt.timedelta(hours=5))),  # before year 1 in UTC
        _dt.datetime(9999, 12, 31, 23, 59, tzinfo=_dt.timezone(_dt.timedelta(hours=-5))),
        Decimal("1" * 60 + "E-70"),
    ],
)
def test_edge_values(value: Any) -> None:
    assert_same_hash(value)


@needs_core
@pytest.mark.parametrize("depth", [10, 400, 1001, 5000])
def test_deep_nesting_raises_data_error_never_crashes(depth: int) -> None:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    assert core is not None
    if depth <= 400:  # both cores handle it
        assert_same_hash(value)
    else:
        with pytest.raises(DataError):
            core.ion_hash(value)


@needs_core
def test_a_value_that_contains_itself_raises_data_error() -> None:
    assert core is not None
    loop: list[Any] = []
    loop.append(loop)
    cyclic: dict[str, Any] = {}
    cyclic["me"] = [cyclic]
    for value in (loop, cyclic):
        with pytest.raises(DataError):
            core.ion_hash(value)
        with pytest.raises(DataError):
            ion_hash_module.pure_ion_hash(value)


# --- the conformance suite and QLDB's vectors ------------------------------------------------


def _suite_values() -> list[Any]:
    suite = VECTORS / "ion-hash" / "ion_hash_tests.ion"
    if not suite.is_file():
        pytest.skip("../shared/vectors not present")
    cases = simpleion.load_python(io.StringIO(suite.read_text("utf-8")), single_value=False)
    ivm = b"\xe0\x01\x00\xea"
    return [c["ion"] if "ion" in c else simpleion.load_python(io.BytesIO(ivm + bytes(c["10n"])))
            for c in cases]


@needs_core
def test_the_ion_hash_conformance_suite_hashes_alike_in_both_cores() -> None:
    values = _suite_values()
    assert len(values) >= 160
    for value in values:
        assert_same_hash(value)


def _qldb(name: str) -> Any:
    path = VECTORS / "qldb" / name
    if not path.is_file():
        pytest.skip("../shared/vectors not present")
    return json.loads(path.read_text())


@needs_core
def test_qldb_block_and_proofs_alike_in_both_cores() -> None:
    assert core is not None
    out = _qldb("get-block.output.json")
    block = simpleion.loads(out["Block"]["IonText"])
    assert_same_hash(block)
    for revision in block["revisions"]:
        assert_same_hash(revision)
    proof = [bytes(h) for h in simpleion.loads(out["Proof"]["IonText"])]
    leaf = bytes(block["blockHash"])
    assert core.fold(proof, leaf) == dot_module.pure_fold(proof, leaf)
    entries = [bytes(e) for e in block["entriesHashList"]]
    assert core.merkle_root(entries) == merkle.pure_merkle_root(entries)
    digests = _qldb("commit_digests.json")
    assert digests  # the driver vectors run through ledger.hashing.commit in both cores


# --- dot, fold, merkle -------------------------------------------------------------------------

_hashes = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.just(b""),
    st.binary(min_size=32, max_size=32).map(lambda h: h[:31] + bytes([h[31] ^ 0x80])),
)
_odd = st.one_of(_hashes, st.binary(max_size=40))


@needs_core
@settings(max_examples=500, deadline=None)
@given(_odd, _odd)
def test_dot_alike(a: bytes, b: bytes) -> None:
    assert core is not None
    assert _outcome(core.dot, a, b) == _outcome(dot_module.pure_dot, a, b)
    assert _outcome(core.dot, a, a) == _outcome(dot_module.pure_dot, a, a)


@needs_core
@settings(max_examples=300, deadline=None)
@given(st.lists(_hashes, max_size=200), st.lists(_odd, max_size=3), _odd)
def test_merkle_root_and_fold_alike(hashes: list[bytes], odd: list[bytes], leaf: bytes) -> None:
    assert core is not None
    for items in (hashes, hashes + odd, odd):
        assert _outcome(core.merkle_root, items) == _outcome(merkle.pure_merkle_root, items)
        assert _outcome(core.fold, items, leaf) == _outcome(dot_module.pure_fold, items, leaf)


# --- whole blocks of a real ledger -------------------------------------------------------------


@needs_core
def test_whole_blocks_and_their_proofs_alike(tmp_path: Path) -> None:
    import ledger
    from ledger.hashing import block as block_module

    assert core is not None
    db = ledger.connect(str(tmp_path / "l.ledger"))
    try:
        db.execute("CREATE TABLE t")
        db.execute("CREATE INDEX ON t (k)")
        for i in range(20):
            db.execute("INSERT INTO t ?", {"k": i, "d": Decimal(f"{i}.50"), "s": "x" * i,
                                           "when": _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)})
        db.execute("UPDATE t SET k = 100 WHERE k = 3")
        db.execute("DELETE FROM t WHERE k = 4")
        digest = db.digest()
        tip = digest.tip.sequence_no
        got = [db.get_block(seq, tip) for seq in range(tip + 1)]
        blocks = [block for block, _ in got]
        for (block, proof), seq in zip(got, range(tip + 1), strict=True):
            assert proof is not None
            leaf = bytes(block["blockHash"])
            assert core.fold(proof, leaf) == dot_module.pure_fold(proof, leaf) == digest.digest, seq
    finally:
        db.close()
    assert len(blocks) > 20
    for block in blocks:
        assert_same_hash(block)
        block_module.verify_block(block)  # the ledger's own check, on the compiled core
        hashes = [bytes(r["hash"]) for r in block.get("revisions") or () if "hash" in r]
        assert core.merkle_root(hashes) == merkle.pure_merkle_root(hashes)


# --- no reference or memory growth ---------------------------------------------------------------


def _rss_pages() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1])


@needs_core
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_a_million_calls_grow_no_references_or_memory() -> None:
    assert core is not None
    calls = 1_000_000 if SOAK else 100_000
    name, text, number = "field", "value", 10**30
    doc = IonPyDict.from_value(IonType.STRUCT, {name: text})
    doc.add_item("n", IonPyInt.from_value(IonType.INT, number, ("a",)))
    values: list[Any] = [
        {name: text, "d": Decimal("1.25"), "t": _dt.datetime(2020, 1, 1, tzinfo=_dt.UTC)},
        doc, [1, 2.5, b"x", None, True], SymbolToken(None, 0),
    ]
    failing: list[Any] = [SymbolToken(None, 7), Decimal("NaN"), {1: 2}, "\ud800", [[[object()]]]]
    h = hashlib.sha256(b"a").digest()
    hashes = [hashlib.sha256(bytes([i])).digest() for i in range(9)]
    before = [sys.getrefcount(x) for x in (name, text, number, h, *values, *failing, *hashes)]

    def run(n: int) -> None:
        for _ in range(n):
            core.dot(h, hashes[0])
            core.merkle_root(hashes)
            core.fold(hashes, h)
            for v in values:
                core.ion_hash(v)
            for v in failing:
                try:
                    core.ion_hash(v)
                except (DataError, TypeError):
                    pass

    run(2000)  # warm: allocator pools, caches
    rss = _rss_pages()
    run(calls // 16)  # 16 calls a round
    grown_kib = (_rss_pages() - rss) * os.sysconf("SC_PAGE_SIZE") // 1024
    after = [sys.getrefcount(x) for x in (name, text, number, h, *values, *failing, *hashes)]
    assert after == before
    if "ASAN_OPTIONS" in os.environ:
        return  # AddressSanitizer holds freed memory in quarantine: RSS says nothing here
    assert grown_kib < 2048, f"resident memory grew {grown_kib} KiB over {calls} calls"
