"""dot, fold and the in-memory Merkle tree: properties, a naive reference, negatives."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import DataError
from ledger.hashing import dot, fold, merkle_proof, merkle_root
from ledger.hashing.merkle import naive_merkle_proof, naive_merkle_root

hashes32 = st.binary(min_size=32, max_size=32)


def leaves(n: int, salt: str = "") -> list[bytes]:
    return [hashlib.sha256(f"{salt}{i}".encode()).digest() for i in range(n)]


def _signed_order_key(h: bytes) -> list[int]:
    """QLDB's order, written the slow, obvious way: signed bytes from the last one."""
    return [b - 256 if b > 127 else b for b in reversed(h)]


@given(hashes32, hashes32)
def test_dot_is_sha256_of_the_signed_sorted_pair(a: bytes, b: bytes) -> None:
    first, second = sorted([a, b], key=_signed_order_key)
    assert dot(a, b) == hashlib.sha256(first + second).digest()


@given(hashes32, hashes32)
def test_dot_is_commutative(a: bytes, b: bytes) -> None:
    assert dot(a, b) == dot(b, a)


@given(hashes32)
def test_dot_with_empty_returns_the_other(a: bytes) -> None:
    assert dot(a, b"") == dot(b"", a) == a
    assert dot(a, a) == hashlib.sha256(a + a).digest()


def test_dot_compares_from_the_last_byte_as_signed() -> None:
    low = bytes(31) + b"\x80"  # last byte -128: the smallest
    high = b"\xff" * 31 + b"\x7f"  # last byte +127: the largest
    assert dot(low, high) == hashlib.sha256(low + high).digest()


@pytest.mark.parametrize("bad", [b"\x00" * 31, b"\x00" * 33, b"x"])
def test_dot_rejects_hashes_of_the_wrong_size(bad: bytes) -> None:
    with pytest.raises(DataError, match="32 bytes"):
        dot(bad, bytes(32))


def test_merkle_root_small_cases() -> None:
    a, b, c = leaves(3)
    assert merkle_root([]) == b""
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == dot(a, b)
    assert merkle_root([a, b, c]) == dot(dot(a, b), c)  # c is carried up


@pytest.mark.parametrize("n", range(0, 70))
def test_merkle_root_matches_the_rfc6962_recursion(n: int) -> None:
    assert merkle_root(leaves(n)) == naive_merkle_root(leaves(n))


@pytest.mark.parametrize("n", range(1, 40))
def test_every_merkle_proof_folds_to_the_root(n: int) -> None:
    items = leaves(n)
    root = merkle_root(items)
    for i, leaf in enumerate(items):
        proof = merkle_proof(items, i)
        assert proof == naive_merkle_proof(items, i)
        assert fold(proof, leaf) == root


@given(st.integers(1, 300), st.data())
def test_merkle_proof_property(n: int, data: st.DataObject) -> None:
    items = leaves(n)
    i = data.draw(st.integers(0, n - 1))
    assert fold(merkle_proof(items, i), items[i]) == merkle_root(items)
    assert len(merkle_proof(items, i)) <= (n - 1).bit_length()


def test_merkle_proof_rejects_an_index_out_of_range() -> None:
    with pytest.raises(DataError):
        merkle_proof(leaves(3), 3)


# --- negatives: a mutated proof never folds to the root -------------------------------


def mutations(proof: list[bytes], leaf: bytes) -> list[tuple[str, list[bytes], bytes]]:
    """Golden-negative style: every way a good proof can be spoiled."""
    flipped = [bytearray(h) for h in proof]
    flipped[0][7] ^= 0x10
    spoiled = [
        ("bit flip", [bytes(h) for h in flipped], leaf),
        ("truncated", proof[:-1], leaf),
        ("extra element", [*proof, leaves(1, "extra")[0]], leaf),
        ("wrong leaf", proof, leaves(1, "other")[0]),
    ]
    if len(set(proof)) > 1:
        spoiled.append(("reordered", proof[::-1], leaf))
    return spoiled


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13, 100])
def test_mutated_proofs_fail(n: int) -> None:
    items = leaves(n)
    root = merkle_root(items)
    for i in range(n):
        for name, proof, leaf in mutations(merkle_proof(items, i), items[i]):
            assert fold(proof, leaf) != root, f"{name} of leaf {i} of {n} still verifies"


def test_package_docstring_examples() -> None:
    import doctest

    import ledger.hashing

    assert doctest.testmod(ledger.hashing).failed == 0
