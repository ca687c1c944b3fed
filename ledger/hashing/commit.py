"""Statement digests and the driver's CommitDigest (QLDB-HASHING.md §7).

The QLDB session protocol has the client send a digest of everything it executed; the
server recomputes it from what it received and refuses the commit when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ledger.hashing.dot import dot
from ledger.hashing.ion_hash import ion_hash


def statement_digest(statement: str, parameters: Sequence[Any] = ()) -> bytes:
    """``H(statement as Ion string)``, then ``dot``-ed with ``H(p)`` of each parameter."""
    digest = ion_hash(str(statement))
    for p in parameters:
        digest = dot(digest, ion_hash(p))
    return digest


def commit_digest(transaction_id: str, statements: Iterable[tuple[str, Sequence[Any]]]) -> bytes:
    """The CommitDigest of a transaction: its executed statements in order.

    ``statements`` holds ``(statement text, parameters)`` pairs.
    """
    seed = ion_hash(str(transaction_id))
    for statement, parameters in statements:
        seed = dot(seed, statement_digest(statement, parameters))
    return seed
