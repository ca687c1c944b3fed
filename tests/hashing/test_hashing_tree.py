"""The ledger tree over stored subtree roots, checked against the in-memory Merkle code.

Every size from 0 to 300 has the in-memory root; every inclusion proof at every earlier
size folds (and passes the position-binding check); every consistency proof between
small sizes verifies, and tampered ones do not; node reads and writes stay O(log n).
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DataError, StorageError
from ledger.hashing import fold, merkle_proof, merkle_root, tree
from ledger.hashing.tree import MemoryNodeStore

MAX = 300


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(b"block %d" % i).digest() for i in range(n)]


@cache
def grown(n: int = MAX) -> MemoryNodeStore:
    """A store that had n leaves appended one by one (shared: tests only read it)."""
    store = MemoryNodeStore()
    for i, leaf in enumerate(leaves(n)):
        tree.append_leaf(store, i, leaf)
    return store


class CountingStore(MemoryNodeStore):
    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        super().__init__()
        self.nodes = dict(nodes)
        self.gets = self.puts = 0

    def get_node(self, level: int, index: int) -> bytes | None:
        self.gets += 1
        return super().get_node(level, index)

    def put_node(self, level: int, index: int, h: bytes) -> None:
        self.puts += 1
        super().put_node(level, index, h)


def test_root_equals_merkle_root_for_every_size() -> None:
    all_leaves, store = leaves(MAX), grown()
    for size in range(MAX + 1):
        assert tree.root(store, size) == merkle_root(all_leaves[:size]), size


def test_nodes_are_the_complete_subtrees_only() -> None:
    store = grown(6)  # complete: 6 leaves, (1,0) (1,1) (1,2), (2,0)
    assert sorted(k for k in store.nodes if k[0] > 0) == [(1, 0), (1, 1), (1, 2), (2, 0)]
    assert store.nodes[(2, 0)] == merkle_root(leaves(4))


@pytest.mark.parametrize("size", range(1, 65))
def test_every_inclusion_proof_at_every_size(size: int) -> None:
    all_leaves, store = leaves(size), grown()
    root = tree.root(store, size)
    for index in range(size):
        proof = tree.inclusion_proof(store, index, size)
        assert proof == merkle_proof(all_leaves, index)
        assert fold(proof, all_leaves[index]) == root
        assert tree.verify_inclusion(index, size, all_leaves[index], proof, root)


@settings(max_examples=200)
@given(st.integers(1, MAX), st.data())
def test_inclusion_proofs_at_earlier_sizes(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    leaf, store = leaves(MAX)[index], grown()
    proof = tree.inclusion_proof(store, index, size)
    assert fold(proof, leaf) == tree.root(store, size)
    assert tree.verify_inclusion(index, size, leaf, proof, tree.root(store, size))


def test_verify_inclusion_checks_the_proof_length_for_the_position() -> None:
    """The QLDB fold ignores positions; verify_inclusion wants RFC 9162's path length.

    (dot is commutative, so siblings' positions cannot be told apart, only lengths.)
    """
    store, all_leaves = grown(), leaves(MAX)
    root = tree.root(store, 10)
    proof = tree.inclusion_proof(store, 3, 10)  # 4 hashes; leaf 8 of 10 has 2
    assert tree.verify_inclusion(3, 10, all_leaves[3], proof, root)
    assert fold(proof, all_leaves[3]) == root
    assert not tree.verify_inclusion(8, 10, all_leaves[3], proof, root)
    assert not tree.verify_inclusion(3, 4, all_leaves[3], proof, root)
    assert not tree.verify_inclusion(3, 10, all_leaves[3], proof[:-1], root)
    assert not tree.verify_inclusion(3, 10, all_leaves[3], [*proof, proof[0]], root)
    assert not tree.verify_inclusion(10, 10, all_leaves[3], proof, root)
    assert not tree.verify_inclusion(3, 10, all_leaves[3], [b"short", *proof[1:]], root)


@pytest.mark.parametrize("new", range(1, 41))
def test_consistency_proofs_for_all_pairs(new: int) -> None:
    store = grown()
    new_root = tree.root(store, new)
    for old in range(0, new + 1):
        old_root = tree.root(store, old)
        proof = tree.consistency_proof(store, old, new)
        assert tree.verify_consistency(old, new, old_root, new_root, proof), (old, new)


@settings(max_examples=200)
@given(st.integers(1, MAX), st.data())
def test_consistency_proofs_property(new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, new))
    store = grown()
    proof = tree.consistency_proof(store, old, new)
    assert tree.verify_consistency(old, new, tree.root(store, old), tree.root(store, new), proof)
    assert len(proof) <= 2 * new.bit_length()


@pytest.mark.parametrize("new", range(2, 41))
def test_tampered_consistency_fails(new: int) -> None:
    store = grown()
    new_root = tree.root(store, new)
    bad_root = bytes(32)
    for old in range(1, new):
        old_root = tree.root(store, old)
        proof = tree.consistency_proof(store, old, new)
        assert not tree.verify_consistency(old, new, bad_root, new_root, proof)
        assert not tree.verify_consistency(old, new, old_root, bad_root, proof)
        assert not tree.verify_consistency(old, new, new_root, old_root, proof)  # swapped
        assert not tree.verify_consistency(old, new, old_root, new_root, proof[:-1])
        assert not tree.verify_consistency(old, new, old_root, new_root, [*proof, bad_root])
        flipped = bytearray(proof[0])
        flipped[0] ^= 1
        assert not tree.verify_consistency(
            old, new, old_root, new_root, [bytes(flipped), *proof[1:]]
        )
        if old + 1 < new:  # the same proof does not vouch for another size
            assert not tree.verify_consistency(old + 1, new, old_root, new_root, proof)


def test_consistency_edge_cases() -> None:
    store = grown()
    r5 = tree.root(store, 5)
    assert tree.consistency_proof(store, 0, 5) == []
    assert tree.consistency_proof(store, 5, 5) == []
    assert tree.verify_consistency(0, 5, b"", r5, [])
    assert tree.verify_consistency(5, 5, r5, r5, [])
    assert not tree.verify_consistency(5, 5, r5, tree.root(store, 6), [])
    assert not tree.verify_consistency(6, 5, r5, r5, [])
    assert not tree.verify_consistency(3, 5, tree.root(store, 3), r5, [])
    with pytest.raises(DataError):
        tree.consistency_proof(store, 6, 5)


def test_bad_arguments_and_missing_nodes() -> None:
    store = grown(10)
    with pytest.raises(DataError):
        tree.inclusion_proof(store, 10, 10)
    with pytest.raises(DataError):
        tree.root(store, -1)
    with pytest.raises(StorageError, match="missing"):
        tree.root(store, 11)
    with pytest.raises(StorageError):
        tree.append_leaf(MemoryNodeStore(), 1, leaves(1)[0])  # leaf 0 was never stored
    assert tree.root(store, 0) == b""


def test_reads_and_writes_are_logarithmic() -> None:
    n = 1 << 12
    store = CountingStore({})
    all_leaves = leaves(n)
    for i, leaf in enumerate(all_leaves):
        before = store.puts
        tree.append_leaf(store, i, leaf)
        assert store.puts - before <= 1 + i.bit_length()
    for size in (n, n - 1, 3000, 1234):
        store.gets = 0
        tree.root(store, size)
        assert store.gets == bin(size).count("1")
        store.gets = 0
        proof = tree.inclusion_proof(store, size // 3, size)
        assert store.gets <= 2 * size.bit_length()
        assert fold(proof, all_leaves[size // 3]) == merkle_root(all_leaves[:size])
