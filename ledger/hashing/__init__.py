"""QLDB-compatible hashing: Ion Hash, ``dot``, Merkle trees, digests and proofs.

A leaf package (it needs only ``ledger.errors``); the rules are QLDB-HASHING.md.

>>> from ledger.hashing import ion_hash, dot, fold, merkle_root, merkle_proof
>>> ion_hash({"a": 1}).hex()[:16]
'f5d2d95c18463b4e'
>>> leaves = [ion_hash(n) for n in range(5)]
>>> fold(merkle_proof(leaves, 3), leaves[3]) == merkle_root(leaves)
True

The ledger tree over every blockHash lives in ``ledger.hashing.tree``:

>>> from ledger.hashing import tree
>>> store = tree.MemoryNodeStore()
>>> for i, leaf in enumerate(leaves):
...     tree.append_leaf(store, i, leaf)
>>> tree.root(store, 5) == merkle_root(leaves)
True
>>> fold(tree.inclusion_proof(store, 1, 4), leaves[1]) == tree.root(store, 4)
True
"""

from __future__ import annotations

from ledger.hashing import tree
from ledger.hashing.block import (
    BlockHashes,
    block_hashes,
    entries_hash_list,
    revision_hash,
    revision_proof,
    verify_block,
)
from ledger.hashing.commit import KnownSerializations, commit_digest, statement_digest
from ledger.hashing.dot import HASH_SIZE, dot, fold
from ledger.hashing.ion_hash import Hasher, ion_hash, ion_hash_serialization
from ledger.hashing.merkle import merkle_proof, merkle_root
from ledger.hashing.tree import (
    MemoryNodeStore,
    NodeStore,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "HASH_SIZE",
    "Hasher",
    "ion_hash",
    "ion_hash_serialization",
    "dot",
    "fold",
    "merkle_root",
    "merkle_proof",
    "tree",
    "NodeStore",
    "MemoryNodeStore",
    "inclusion_proof",
    "consistency_proof",
    "verify_inclusion",
    "verify_consistency",
    "revision_hash",
    "entries_hash_list",
    "block_hashes",
    "BlockHashes",
    "revision_proof",
    "verify_block",
    "statement_digest",
    "KnownSerializations",
    "commit_digest",
]
