"""QLDB's node combiner ``dot(a, b)`` and proof folding (QLDB-HASHING.md §2).

``dot`` hashes the two operands in a canonical order, so it is commutative and a proof
is a bare list of hashes with no left/right flags.  The order is QLDB's: compare the
32-byte hashes from the last byte down, each byte a *signed* int8.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ledger.errors import DataError
from ledger.hashing import native as _native

HASH_SIZE = 32

_sha256 = hashlib.sha256


def _check(h: bytes) -> None:
    if len(h) != HASH_SIZE:
        raise DataError(f"a ledger hash has {HASH_SIZE} bytes, got {len(h)}: {bytes(h).hex()}")


def dot(a: bytes, b: bytes) -> bytes:
    """``SHA256(smaller ‖ larger)``; an empty operand yields the other unchanged.

    Precondition: each operand is empty or 32 bytes (DataError otherwise).
    """
    if not a:
        return b
    if not b:
        return a
    if len(a) != HASH_SIZE or len(b) != HASH_SIZE:
        _check(a)
        _check(b)
    i = HASH_SIZE - 1
    while i >= 0 and a[i] == b[i]:  # random hashes nearly always differ in the last byte
        i -= 1
    # x ^ 0x80 maps a signed byte's order onto unsigned order.
    if i < 0 or (a[i] ^ 0x80) < (b[i] ^ 0x80):
        return _sha256(a + b).digest()
    return _sha256(b + a).digest()


def fold(proof: Iterable[bytes], leaf: bytes) -> bytes:
    """What the QLDB verifiers compute: ``dot`` the leaf with each proof hash in turn."""
    acc = leaf
    for h in proof:
        acc = dot(acc, h)
    return acc


pure_dot, pure_fold = dot, fold
if _native.core is not None:  # the compiled twin (ledger/hashing/_native.c)
    dot = _native.core.dot
    fold = _native.core.fold
