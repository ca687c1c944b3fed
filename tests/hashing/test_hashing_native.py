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
    IonPyDict,
    IonPyInt,
    IonPyNull,
)
from amazon.ion.symbols import SymbolToken
from hashkit import VECTORS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ion_strategies import ion_values

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
    # Strings made here, not literals: an interned "field" is shared with the rest of the
    # process (CPython's attribute cache keeps names it looked up), so its count moves
    # whenever that cache evicts it, e.g. under the attribute lookups this loop does.
    name, text, number = "".join(("fi", "eld")), "".join(("val", "ue")), 10**30
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
