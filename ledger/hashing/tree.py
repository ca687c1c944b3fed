"""The ledger tree: a Merkle tree over every blockHash, kept as complete subtree roots.

Node ``(level, index)`` is the root of leaves ``[index·2^level, (index+1)·2^level)``;
it is stored once, when complete (level 0 holds the blockHashes).  The tree shape is
QLDB's (RFC 6962): so the digest, block proofs and consistency proofs of any size
``n`` need O(log n) node reads, and appending a leaf O(log n) writes.

Beyond QLDB: consistency proofs between two sizes, RFC 9162 §2.1.4 with ``dot`` as the
node combiner, and an inclusion check that also binds the leaf's position.
"""

from __future__ import annotations

from typing import Protocol

from ledger.errors import DataError, StorageError
from ledger.hashing.dot import dot


class NodeStore(Protocol):
    """Where the tree's complete nodes live (an LMDB table, a dict, ...)."""

    def get_node(self, level: int, index: int) -> bytes | None: ...

    def put_node(self, level: int, index: int, h: bytes) -> None: ...


class MemoryNodeStore:
    """A dict-backed NodeStore, for tests and in-memory ledgers."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}

    def get_node(self, level: int, index: int) -> bytes | None:
        return self.nodes.get((level, index))

    def put_node(self, level: int, index: int, h: bytes) -> None:
        self.nodes[(level, index)] = h


def _node(store: NodeStore, level: int, index: int) -> bytes:
    h = store.get_node(level, index)
    if h is None:
        raise StorageError(
            f"ledger tree node (level {level}, index {index}) is missing: "
            "the store is incomplete, or the size asked for exceeds its leaves"
        )
    return h


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def append_leaf(store: NodeStore, size: int, leaf: bytes) -> None:
    """Store ``leaf`` as leaf number ``size`` and every subtree root it completes.

    ``size`` is the number of leaves before this one; 1 + (trailing 1 bits of size) puts.
    """
    if size < 0:
        raise DataError(f"ledger tree size must be >= 0, got {size}")
    store.put_node(0, size, leaf)
    node, level, index = leaf, 0, size
    while index & 1:  # a right child: its parent is now complete
        node = dot(_node(store, level, index - 1), node)
        level, index = level + 1, index >> 1
        store.put_node(level, index, node)


def _range_root(store: NodeStore, start: int, end: int) -> bytes:
    """Root of leaves [start, end), where start is aligned as RFC 6962 subtrees are.

    The range splits into complete subtrees, largest first; their roots fold from the
    right, which is exactly the RFC's recursive split at the largest power of two.
    """
    roots = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        roots.append(_node(store, level, start >> level))
        start += 1 << level
    acc = roots.pop()
    while roots:
        acc = dot(roots.pop(), acc)
    return acc


def root(store: NodeStore, size: int) -> bytes:
    """The Merkle root of the first ``size`` leaves (``b""`` for 0): the ledger digest."""
    if size < 0:
        raise DataError(f"ledger tree size must be >= 0, got {size}")
    return _range_root(store, 0, size) if size else b""


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """Leaf ``index``'s siblings, bottom-up, in the tree of the first ``size`` leaves.

    ``fold(proof, leaf) == root(store, size)``: QLDB's GetBlock proof, for any
    ``index < size`` (not only the latest size).
    """
    if not 0 <= index < size:
        raise DataError(f"inclusion proof needs 0 <= index < size, got index {index}, size {size}")
    siblings = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            siblings.append(_range_root(store, mid, end))
            end = mid
        else:
            siblings.append(_range_root(store, start, mid))
            start = mid
    siblings.reverse()
    return siblings


def consistency_proof(store: NodeStore, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 PROOF(m, D[n]): shows the tree of ``new_size`` leaves extends ``old_size``.

    Empty when ``old_size`` is 0 or equal to ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise DataError(
            f"consistency proof needs 0 <= old_size <= new_size, got {old_size}, {new_size}"
        )
    if old_size in (0, new_size):
        return []
    nodes = []
    start, end, m, whole = 0, new_size, old_size, True  # SUBPROOF(m, D[start:end], whole)
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            nodes.append(_range_root(store, start + k, end))
            end = start + k
        else:
            nodes.append(_range_root(store, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        nodes.append(_range_root(store, start, end))
    nodes.reverse()
    return nodes


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2 with ``dot``: does ``new_root`` extend ``old_root``?

    Malformed input (sizes out of order, a hash of the wrong length) is False too.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == b""
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a complete subtree of the new
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    try:
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr, sr = dot(c, fr), dot(c, sr)
                if not fn & 1:
                    fn, sn = _shift_while_even(fn, sn)
            else:
                sr = dot(sr, c)
            fn, sn = fn >> 1, sn >> 1
    except DataError:
        return False
    return sn == 0 and fr == old_root and sr == new_root


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2 with ``dot``: a stricter ``fold(proof, leaf) == root``.

    It also checks that the proof has the length RFC 9162 gives leaf ``index`` of a tree
    of ``size`` leaves, which QLDB's position-free fold cannot.  (``dot`` is commutative,
    so a left sibling cannot be told from a right one: siblings share their proofs.)
    """
    if not 0 <= index < size:
        return False
    fn, sn, acc = index, size - 1, leaf
    try:
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                acc = dot(p, acc)
                if not fn & 1:
                    fn, sn = _shift_while_even(fn, sn)
            else:
                acc = dot(acc, p)
            fn, sn = fn >> 1, sn >> 1
    except DataError:
        return False
    return sn == 0 and acc == root
