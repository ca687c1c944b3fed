"""The compiled copy of a document DML stores (``storage_copy`` in ledger/_ion_native.c)
against its pure-Python twin, ``ledger.query.values._convert(value, True, 0)``.

A differential oracle: on generated values of every Ion type, plain Python values,
PartiQL's own (MISSING, bags, structs) and the benchmark documents, the compiled copy is
either None (it declines: ``to_ion`` then runs ``_convert``) or equal to ``_convert``'s
result in value, in the exact type of every part and in the identity of every scalar,
sharing no container with its input.  Plus deep and self-containing values, and a loop
test for reference growth.  ~5 s.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from amazon.ion.simple_types import IonPyDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ion_strategies import ion_values

from ledger import ion
from ledger.errors import DataError
from ledger.query import values
from ledger.query.values import MISSING, Bag, Struct

SOAK = os.environ.get("LEDGER_SOAK") == "1"
compiled = values._compiled_copy
needs_core = pytest.mark.skipif(compiled is None, reason="the compiled core is not built or forced off")


def assert_same_shape(got: Any, want: Any, original: Any) -> None:
    """``got`` is ``want`` part for part: same exact types, the same scalar objects, new
    containers (none of them one of ``original``'s)."""
    assert type(got) is type(want)
    if type(want) is dict:
        assert got is not original
        assert list(got) == list(want)
        for name in want:
            assert type(name) is str
            assert_same_shape(got[name], want[name], original[name])
    elif type(want) is list:
        assert got is not original
        assert len(got) == len(want) == len(original)
        for g, w, o in zip(got, want, original, strict=True):
            assert_same_shape(g, w, o)
    else:
        assert got is want


def check(value: Any) -> Any:
    assert compiled is not None
    got = compiled(value, values._AS_IS, ion.MAX_NESTING)
    if got is None:
        return None
    assert_same_shape(got, values._convert(value, True, 0), value)
    return got


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.text(),
    st.binary(), ion_values, st.just(MISSING),
)
_partiql = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.lists(children, max_size=5).map(Bag),
        st.dictionaries(st.text(max_size=6), children, max_size=6),
        st.dictionaries(st.text(max_size=6), children, max_size=6).map(Struct),
    ),
    max_leaves=30,
)


@needs_core
@settings(max_examples=2000 if SOAK else 400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_partiql)
def test_the_compiled_copy_is_convert_or_declines(value: Any) -> None:
    check(value)
    check([value])
    check({"v": value})


_plain = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.text(),
              st.binary()),
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.text(max_size=6), children, max_size=6)),
    max_leaves=30,
)


@needs_core
@settings(max_examples=1000 if SOAK else 300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.dictionaries(st.text(max_size=6), _plain, max_size=8))
def test_plain_documents_are_copied_not_declined(doc: dict[str, Any]) -> None:
    assert check(doc) is not None


@needs_core
@pytest.mark.parametrize(
    "value",
    [{"m": MISSING}, [MISSING], {"b": Bag([1])}, {"s": Struct(a=1)}, {1: "int key"},
     {"i": IonPyDict.from_value(ion.IonType.STRUCT, {"a": 1})}, {"o": object()}],
)
def test_what_convert_must_handle_is_declined(value: Any) -> None:
    assert compiled is not None
    assert compiled(value, values._AS_IS, ion.MAX_NESTING) is None


@needs_core
def test_too_deep_and_self_containing_values_are_declined_and_convert_refuses_them() -> None:
    assert compiled is not None
    deep: Any = {}
    for _ in range(ion.MAX_NESTING):
        deep = {"a": deep}
    assert compiled(deep, values._AS_IS, ion.MAX_NESTING) is None
    loop: list[Any] = []
    loop.append(loop)
    assert compiled(loop, values._AS_IS, ion.MAX_NESTING) is None
    for bad in (deep, loop):
        with pytest.raises(DataError, match="nested more than"):
            values.to_ion(bad, storage=True)
    ok: Any = {}
    for _ in range(ion.MAX_NESTING - 1):
        ok = {"a": ok}
    assert check(ok) is not None


@needs_core
def test_benchmark_documents_are_copied() -> None:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from bench.docs import documents
    finally:
        sys.path.remove(str(root))
    for doc in documents(200):
        assert check(doc) is not None
        assert ion.dumps(values.to_ion(doc, storage=True)) == ion.dumps(values._convert(doc, True, 0))


@needs_core
def test_no_reference_growth() -> None:
    assert compiled is not None
    doc = {"name": "x", "n": 10**12, "d": Decimal("1.25"), "l": [1.5, None, True, b"z", (1,)]}
    declined = {"a": [1, MISSING]}
    parts = (doc, declined, *doc.values(), "name", MISSING)
    before = [sys.getrefcount(x) for x in parts]
    for _ in range(200_000 if SOAK else 20_000):
        compiled(doc, values._AS_IS, ion.MAX_NESTING)
        compiled(declined, values._AS_IS, ion.MAX_NESTING)
    assert [sys.getrefcount(x) for x in parts] == before
