"""The compiled Ion binary encoder (ledger/_ion_native.c) against amazon.ion's writer.

A differential oracle: ``ledger.ion.pure_dumps`` (amazon.ion, the specification) and the
compiled ``dumps`` must give identical bytes for every value the compiled one writes; for
the rest it must decline (return None) so that amazon.ion writes them.  Inputs: generated
values of every Ion type, the ledger's benchmark documents and whole blocks of a real
ledger (their stored envelopes), and a loop test for reference growth.  ~10 s.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ion_strategies import ion_values

from ledger import ion
from ledger.errors import DataError
from ledger.hashing import native

SOAK = os.environ.get("LEDGER_SOAK") == "1"
compiled = ion._compiled_dumps
needs_core = pytest.mark.skipif(compiled is None, reason="the compiled core is not built or forced off")


def assert_same_encoding(value: Any) -> bytes | None:
    """What the compiled encoder writes, amazon.ion writes identically.

    Only values the ledger would encode are compared (``check_storable`` admits them):
    amazon.ion's C writer loops or crashes on some others (huge decimal exponents, odd
    symbol tokens), which the compiled encoder declines or the ledger refuses first."""
    assert compiled is not None
    got = compiled(value)  # never raises, never crashes: bytes, or None to decline
    if got is None:
        return None
    try:
        ion.check_storable(value)
    except DataError:
        return got
    want = ion.pure_dumps(value)
    assert got.hex(" ") == want.hex(" "), f"encodings differ for {value!r}"
    return got


def test_the_encoder_is_built_with_the_hashing_core() -> None:
    assert (compiled is None) == (native.core is None)


@needs_core
@settings(max_examples=2000 if SOAK else 500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ion_values)
def test_every_value_encodes_alike_or_is_left_to_amazon_ion(value: Any) -> None:
    assert_same_encoding(value)


_plain_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False), st.text(), st.binary(),
    st.datetimes(min_value=_dt.datetime(1, 1, 1), max_value=_dt.datetime(9999, 12, 31)),
    st.datetimes(timezones=st.just(_dt.UTC)),
    st.builds(lambda ms: ion.timestamp_of_ms(ms), st.integers(0, 2**45)),
)
_plain = st.recursive(
    _plain_scalars,
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(st.text(max_size=12), children, max_size=8)),
    max_leaves=40,
)


@needs_core
@settings(max_examples=1500 if SOAK else 400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_plain)
def test_the_values_a_ledger_stores_are_written_by_the_compiled_encoder(value: Any) -> None:
    got = assert_same_encoding(value)
    if got is None:  # only what amazon.ion alone may write: > 18-digit decimals, surrogates
        assert _has_unusual(value), f"declined an ordinary value: {value!r}"


def _has_unusual(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unusual(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unusual(v) for v in value)
    if isinstance(value, Decimal):
        return not value.is_finite() or len(value.as_tuple().digits) > 18
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
    return False


@needs_core
@pytest.mark.parametrize(
    "value",
    [
        {}, [], "", "x" * 13, "x" * 14, "x" * 200, {"name": 1, "symbols": [], "a": {"a": 1}},
        {"k" * 300: b"\x00" * 20000}, list(range(3000)), Decimal("-0"), Decimal("0.00"),
        Decimal("1E+3"), Decimal("-1.5"), 0.0, -0.0, float("inf"), -(2**63), 2**63 - 1,
        _dt.datetime(2020, 1, 2, 3, 4, 5), _dt.datetime(1, 1, 1, tzinfo=_dt.UTC),
    ],
)
def test_edges(value: Any) -> None:
    assert assert_same_encoding(value) is not None


@needs_core
def test_deep_nesting_is_left_to_amazon_ion_never_crashes() -> None:
    value: Any = 1
    for _ in range(5000):
        value = [value]
    assert compiled is not None
    assert compiled(value) is None
    loop: list[Any] = []
    loop.append(loop)
    assert compiled(loop) is None


@needs_core
def test_benchmark_documents_and_whole_blocks_encode_alike(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from bench.docs import documents
    finally:
        sys.path.remove(str(root))
    for doc in documents(300):
        assert assert_same_encoding(doc) is not None
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
            envelope, parts = blocks.envelope(blocks.encode(block), ion.loads)
            assert_same_encoding(envelope)
            for revision in block["revisions"]:
                if "data" in revision:
                    assert_same_encoding(revision["data"])


@needs_core
def test_no_reference_growth() -> None:
    assert compiled is not None
    doc = {"name": "x", "n": 10**12, "d": Decimal("1.25"), "l": [1.5, None, True, b"z"],
           "t": _dt.datetime(2020, 1, 1, tzinfo=_dt.UTC)}
    declined = {"a": Decimal("NaN")}
    before = [sys.getrefcount(x) for x in (doc, declined, *doc.values(), "name")]
    for _ in range(200_000 if SOAK else 20_000):
        compiled(doc)
        compiled(declined)
    assert [sys.getrefcount(x) for x in (doc, declined, *doc.values(), "name")] == before


@needs_core
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(ion_values, _plain))
def test_what_dumps_storable_writes_at_once_passes_check_storable(value: Any) -> None:
    assert compiled is not None
    got = compiled(value, ion.MAX_NESTING)
    if got is not None:
        ion.check_storable(value)  # raises if the one-pass path let through a bad value
        assert got == ion.pure_dumps(value)


@needs_core
def test_dumps_storable_refuses_what_check_storable_refuses() -> None:
    deep: Any = {}
    for _ in range(ion.MAX_NESTING + 1):
        deep = {"a": deep}
    for bad in (deep, {"d": Decimal("1E+999999")}, {"d": Decimal("1." + "1" * 40)}):
        with pytest.raises(DataError):
            ion.dumps_storable(bad)
