"""Merkle root and proofs of a short in-memory list of hashes (QLDB-HASHING.md §3).

Used for a block's revisions and its entriesHashList.  Level by level, pairs are
combined with ``dot`` and an unpaired last node is carried up unchanged: the RFC 6962
tree shape.  ``naive_merkle_root`` is the RFC's recursive definition, kept as an
independent reference for the tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import DataError
from ledger.hashing import native as _native
from ledger.hashing.dot import dot


def merkle_root(hashes: Sequence[bytes]) -> bytes:
    """Root of ``hashes``: ``b""`` for none, the hash itself for one."""
    level = list(hashes)
    if not level:
        return b""
    while len(level) > 1:
        paired = [dot(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])  # carried up unchanged
        level = paired
    return level[0]


pure_merkle_root = merkle_root
if _native.core is not None:  # the compiled twin (ledger/hashing/_native.c)
    merkle_root = _native.core.merkle_root


def merkle_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Siblings of ``hashes[index]``, bottom-up; ``fold(proof, hashes[index]) == root``.

    A level where the node is carried up contributes nothing.
    """
    if not 0 <= index < len(hashes):
        raise DataError(f"merkle proof for index {index} of a list of {len(hashes)} hashes")
    proof: list[bytes] = []
    level = list(hashes)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        paired = [dot(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level, index = paired, index // 2
    return proof


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def naive_merkle_root(hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 MTH: ``dot(MTH(D[:k]), MTH(D[k:]))``, k the largest power of two < n."""
    if not hashes:
        return b""
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return dot(naive_merkle_root(hashes[:k]), naive_merkle_root(hashes[k:]))


def naive_merkle_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 PATH, recursively: the reference for merkle_proof and the ledger tree."""
    if len(hashes) <= 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return naive_merkle_proof(hashes[:k], index) + [naive_merkle_root(hashes[k:])]
    return naive_merkle_proof(hashes[k:], index - k) + [naive_merkle_root(hashes[:k])]
