"""The official Ion Hash conformance suite (amzn/ion-hash-test, ion_hash_tests.ion).

Every case gives a source value (``ion`` as Ion text, or ``'10n'`` as Ion binary bytes)
and the calls a hasher receives.  For the ``identity`` hasher the last ``digest`` (or
``final_digest``) is s(v) itself, struct fields included, so it pins every byte; the
``md5`` expectations list MD5 digests, the last being the value's.  Each case runs on
the value as the pure-Python amazon.ion reader builds it and, where the C extension can
read it back (it refuses more than 10 annotations), as the C extension builds it.

Source: ../shared/vectors/ion-hash/ion_hash_tests.ion
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.exceptions import IonException
from hashkit import VECTORS, IdentityHash

from ledger.hashing import ion_hash, ion_hash_serialization

SUITE = VECTORS / "ion-hash" / "ion_hash_tests.ion"
_IVM = b"\xe0\x01\x00\xea"


def _source(case: Any) -> Any:
    if "ion" in case:
        return case["ion"]
    return simpleion.load_python(io.BytesIO(_IVM + bytes(case["10n"])))


def _name(index: int, case: Any) -> str:
    if case.ion_annotations:
        return str(case.ion_annotations[0].text)
    if "ion" in case:
        text = simpleion.dumps(case["ion"], binary=False, omit_version_marker=True)
        return f"{index}:{text[:40]}"
    return f"{index}:10n"


def _expected_digest(expectations: Any) -> bytes:
    digests = [
        e
        for e in expectations
        if e.ion_annotations and e.ion_annotations[0].text in ("digest", "final_digest")
    ]
    return bytes(digests[-1])


def _load_cases() -> list[Any]:
    if not SUITE.is_file():
        return []
    # The C extension refuses the 14-annotation cases: read the suite in pure Python.
    cases = simpleion.load_python(io.StringIO(SUITE.read_text("utf-8")), single_value=False)
    params = []
    for index, case in enumerate(cases):
        for hasher, expectations in case["expect"].items():
            params.append(
                pytest.param(case, hasher, expectations, id=f"{_name(index, case)}.{hasher}")
            )
    return params


CASES = _load_cases()


def test_suite_is_present_and_complete() -> None:
    if not SUITE.is_file():
        pytest.skip("../shared/vectors not present")
    hashers = [p.values[1] for p in CASES]
    assert hashers.count("identity") == 166
    assert hashers.count("md5") == 5
    assert set(hashers) == {"identity", "md5"}  # nothing else left unchecked


def _serialization(value: Any, hasher: str) -> bytes:
    if hasher == "identity":
        return ion_hash_serialization(value, IdentityHash)
    return hashlib.md5(ion_hash_serialization(value, hashlib.md5)).digest()


def _c_extension_copy(value: Any) -> Any | None:
    """The same value read back by amazon.ion's C extension, when it can."""
    try:
        return simpleion.loads(simpleion.dumps(value, binary=True))
    except (IonException, ValueError, TypeError):
        return None


@pytest.mark.parametrize(("case", "hasher", "expectations"), CASES)
def test_conformance(case: Any, hasher: str, expectations: Any) -> None:
    value = _source(case)
    want = _expected_digest(expectations)
    assert _serialization(value, hasher).hex(" ") == want.hex(" ")
    copy = _c_extension_copy(value)
    if copy is not None:
        assert _serialization(copy, hasher) == want
    # and H(v) is SHA-256 over the SHA-256 flavour of the same serialization
    assert ion_hash(value) == hashlib.sha256(ion_hash_serialization(value)).digest()
