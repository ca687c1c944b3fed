"""``ledger.ion.loads_document`` (amazon.ion's C reader called directly, for the read
path) against ``simpleion.loads`` (what it replaced): the same Ion for every value of
every Ion type and
the benchmark documents, the same value type at the top, and the same error for malformed or
multi-value input.  ~3 s."""

from __future__ import annotations

from typing import Any

import pytest
from amazon.ion import simpleion

from ledger import ion
from ledger.errors import DataError


def _reference(data: bytes) -> Any:
    try:
        value = simpleion.loads(
            data,
            value_model=simpleion.IonPyValueModel.MAY_BE_BARE,
            text_buffer_size_limit=ion.reader_limit(data),
        )
    except Exception as exc:  # the reference's error, as loads_document words it
        return ("error", f"invalid Ion: {exc}")
    return ("value", type(value), ion.pure_dumps(value))


def _ours(data: bytes) -> Any:
    try:
        value = ion.loads_document(data)
    except DataError as exc:
        return ("error", str(exc))
    return ("value", type(value), ion.pure_dumps(value))


IONS = [  # one of every Ion type, in the corners that matter to a decoder
    "{a: 1, b: -0, c: 123456789012345678901234567890, d: 1.0, e: 1d0, f: -0.0d-3}",
    "{f: 1e0, g: -0e0, h: +inf, i: nan, j: 2020T, k: 2020-01-02T03:04:05.678-08:00}",
    '{s: "text", y: sym, z: $0, n: null, ni: null.int, ns: null.struct, t: true}',
    "{l: [1, [2, {x: (a b 'c')}]], b: {{aGVsbG8=}}, c: {{\"clob\"}}, d: {a: 1, a: 2}}",
    "ann::{x: a::b::[1, 2], y: 'quoted sym', u: \"\\u00e9\\U0001F600\"}",
    "{}",
    "[1, 2]",
    "null.list",
    "7",
]


@pytest.mark.parametrize("text", IONS)
def test_values_of_every_type_decode_as_simpleion_decodes_them(text: str) -> None:
    data = ion.pure_dumps(simpleion.loads(text))
    assert _ours(data) == _reference(data)


def test_benchmark_documents_decode_as_simpleion_decodes_them() -> None:
    from bench.docs import documents

    for doc in documents(200):
        data = ion.dumps(doc)
        assert _ours(data) == _reference(data)


BVM = b"\xe0\x01\x00\xea"


@pytest.mark.parametrize(
    "data",
    [BVM, BVM + b"\x21\x01\x21\x02", BVM + b"\xff", BVM + b"\xb1" * 5000, BVM + b"\x2f", b"{a:1}"],
    ids=["empty", "two values", "bad type", "too deep", "bad length", "text"],
)
def test_malformed_and_odd_input_fails_or_decodes_alike(data: bytes) -> None:
    assert _ours(data) == _reference(data)


def test_a_stored_document_takes_the_c_reader_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    if ion._ionc is None or not simpleion.c_ext:
        pytest.skip("amazon.ion's C extension is not built here")
    data = ion.dumps({"VIN": "1N4AL11D75C109151", "Year": 2020})
    monkeypatch.setattr(simpleion, "loads", None)  # calling it would fail
    assert ion.loads_document(data) == {"VIN": "1N4AL11D75C109151", "Year": 2020}
