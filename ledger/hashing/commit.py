"""Statement digests and the driver's CommitDigest (QLDB-HASHING.md §7).

The QLDB session protocol has the client send a digest of everything it executed; the
server recomputes it from what it received and refuses the commit when they differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from ledger.hashing.dot import dot
from ledger.hashing.ion_hash import ion_hash, list_hash


class KnownSerializations:
    """``s(v)`` of values already serialized for hashing, by identity: a transaction
    hashes each document it stores, and the statement digest then reuses that work for
    the parameters the documents came from instead of hashing them again."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, bytes]] = {}

    def add(self, value: Any, serialization: bytes) -> None:
        self._by_id[id(value)] = (value, serialization)  # holding value keeps its id unique

    def _get(self, value: Any) -> bytes | None:
        hit = self._by_id.get(id(value))
        return hit[1] if hit is not None and hit[0] is value else None

    def hash_of(self, value: Any) -> bytes:
        known = self._get(value)
        if known is not None:
            return hashlib.sha256(known).digest()
        if type(value) is list or type(value) is tuple:
            items = [self._get(item) for item in value]
            if value and all(s is not None for s in items):
                return list_hash(s for s in items if s is not None)
        return ion_hash(value)


def statement_digest(
    statement: str, parameters: Sequence[Any] = (), known: KnownSerializations | None = None
) -> bytes:
    """``H(statement as Ion string)``, then ``dot``-ed with ``H(p)`` of each parameter."""
    digest = _text_hash(str(statement))
    for p in parameters:
        digest = dot(digest, known.hash_of(p) if known is not None else ion_hash(p))
    return digest


@lru_cache(maxsize=256)
def _text_hash(statement: str) -> bytes:
    """``H(statement)``: a program runs the same few statements again and again."""
    return ion_hash(statement)


def commit_digest(transaction_id: str, statements: Iterable[tuple[str, Sequence[Any]]]) -> bytes:
    """The CommitDigest of a transaction: its executed statements in order.

    ``statements`` holds ``(statement text, parameters)`` pairs.
    """
    seed = ion_hash(str(transaction_id))
    for statement, parameters in statements:
        seed = dot(seed, statement_digest(statement, parameters))
    return seed
