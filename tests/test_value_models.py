"""The two value models hold the same Ion values: ``ion.as_ion_py`` (pyqldb's model,
used by ``ledger.qldb`` and ``connect(value_model="ion_py")``) changes only the Python
types of a MAY_BE_BARE value, never its Ion (a property over generated values)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from amazon.ion.simple_types import IonPyDict, IonPyList, IonPyNull
from hypothesis import given
from hypothesis import strategies as st

from ledger import ion

TIMESTAMPS = ["2007T", "2007-02T", "2007-02-23", "2007-02-23T12:14Z", "2007-02-23T12:14:33.079-08:00",
              "2007-02-23T12:14:33-00:00", "2007-02-23T12:14:33.000001+05:30"]  # fmt: skip
SPECIAL = ["null.int", "null.string", "null.struct", "a::1", "'sym'", "(1 2)", "{{\"clob\"}}",
           "a::{x: 1}", "{a: 1, a: 2}", "nan", "+inf", "-0.0", "1.5d-30", "0d-3"]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: len(d.as_tuple().digits) <= 34
    ),
    st.text(),
    st.binary(),
    st.sampled_from(TIMESTAMPS + SPECIAL).map(ion.loads),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=12,
)


def _all_ion_py(value: Any) -> bool:
    if not hasattr(value, "ion_type") or not type(value).__name__.startswith("IonPy"):
        return False
    if isinstance(value, IonPyDict):
        return all(_all_ion_py(v) for _, v in value.items())
    if isinstance(value, IonPyList):
        return all(_all_ion_py(v) for v in value)
    return True


@given(values)
def test_ion_py_model_is_the_same_ion(value: Any):
    stored = ion.dumps(value)
    bare = ion.loads_document(stored)
    converted = ion.as_ion_py(bare)
    assert ion.dumps(converted) == stored
    assert _all_ion_py(converted)


def test_typed_null_keeps_its_type():
    converted = ion.as_ion_py(ion.loads_document(ion.dumps(ion.loads("{n: null.int, d: 1.50}"))))
    assert isinstance(converted["n"], IonPyNull) and converted["n"].ion_type.name == "INT"
    assert converted["d"] == Decimal("1.50") and str(converted["d"]) == "1.50"
