"""The index key encoding preserves order (properties) and equates equal numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger import ion
from ledger.storage.keycodec import encode

finite = st.one_of(
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False),
)


@given(finite, finite)
def test_numbers_order_by_value_across_types(a, b):
    ka, kb = encode(a), encode(b)
    da, db_ = Decimal(a), Decimal(b)
    assert (ka < kb) == (da < db_)
    assert (ka == kb) == (da == db_)


@given(st.text(), st.text())
def test_text_orders_by_code_point(a, b):
    assert (encode(a) < encode(b)) == (a.encode() < b.encode())


@given(st.lists(st.integers()), st.lists(st.integers()))
def test_lists_order_lexicographically(a, b):
    assert (encode(a) < encode(b)) == (a < b)


@given(
    st.datetimes(timezones=st.just(dt.UTC)),
    st.datetimes(timezones=st.just(dt.UTC)),
)
def test_timestamps_order_by_instant(a, b):
    assert (encode(a) < encode(b)) == (a < b)


def test_type_ranks_and_precision():
    values = [None, False, True, -1, 0, 1, ion.loads("2019-01-01T00:00Z"), "a", b"a", [1], {"a": 1}]
    keys = [encode(v) for v in values]
    assert keys == sorted(keys)
    assert encode(1) == encode(Decimal("1.000")) == encode(1.0)
    assert encode(ion.loads("2019-01-01T00:00:00.500Z")) == encode(ion.loads("2019-01-01T00:00:00.5Z"))
    assert encode(ion.loads("a")) == encode("a")  # symbol and string share the text rank


@given(st.text(), st.text())
def test_encoding_is_self_delimiting(a, b):
    # a key is value + doc id; no value's encoding is a proper prefix of another's
    ka, kb = encode(a), encode(b)
    if a != b:
        assert not kb.startswith(ka)
