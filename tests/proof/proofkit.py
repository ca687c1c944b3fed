"""Helpers for the proof tests.

* ``populate``: a deterministic ledger touching every feature the summary has
  (tables, indexes made before and after documents, updates, deletes, a dropped and
  undropped table, a dropped index, a redaction), driven through transactions
  directly, without the SQL engine.
* ``copy_ledger`` / ``edit``: corrupt a copy of a ledger through ``store.write``.
* ``ref_dot`` / ``ref_fold`` / ``ref_merkle`` / ``ref_subproof``: an independent QLDB
  verifier, written from QLDB-HASHING.md §2-3 and RFC 6962 with hashlib only (it does
  not import ledger.hashing), to check proofs the ledger hands out.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ledger
from ledger import ion
from ledger.journal import blocks as stored_blocks
from ledger.query.context import BlockAddress


# -- an independent QLDB verifier ---------------------------------------------------------------
def _signed(b: int) -> int:
    return b - 256 if b > 127 else b


def ref_dot(a: bytes, b: bytes) -> bytes:
    """QLDB-HASHING.md §2: compare from the last byte, bytes as signed int8."""
    if not a:
        return b
    if not b:
        return a
    for i in range(31, -1, -1):
        x, y = _signed(a[i]), _signed(b[i])
        if x != y:
            smaller, larger = (a, b) if x < y else (b, a)
            return hashlib.sha256(smaller + larger).digest()
    return hashlib.sha256(a + b).digest()


def ref_fold(proof: Sequence[bytes], leaf: bytes) -> bytes:
    """What QLDB's verifier samples do: dot the leaf with each proof hash in turn."""
    acc = leaf
    for h in proof:
        acc = ref_dot(acc, h)
    return acc


def ref_merkle(hashes: Sequence[bytes]) -> bytes:
    """§3: pair left to right, carry an odd last node up unchanged."""
    level = list(hashes)
    if not level:
        return b""
    while len(level) > 1:
        nxt = [ref_dot(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_subproof(m: int, leaves: Sequence[bytes], whole: bool = True) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(m, D[n], b), recursively, with ref_dot as the node hash."""
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_merkle(leaves)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, leaves[:k], whole) + [ref_merkle(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_merkle(leaves[:k])]


# -- a populated ledger ---------------------------------------------------------------------------
def populate(
    db: Any, rounds: int = 10, seed: int = 7, redaction_alone: bool = False
) -> dict[str, Any]:
    """Fill ``db`` deterministically; returns the ids it made."""
    rng = random.Random(seed)
    with db.transaction() as tx:
        a = tx.create_table("A")
        tx.create_index(a, "k")
    with db.transaction() as tx:
        b = tx.create_table("B", tags={"team": "x"})
    live: dict[str, list[str]] = {a: [], b: []}
    for i in range(rounds):
        with db.transaction() as tx:
            for _ in range(rng.randint(1, 3)):
                _random_write(tx, rng, live, i)
    with db.transaction() as tx:  # an index over documents that already exist
        late_index = tx.create_index(b, "n")
        doc = tx.insert(b, {"n": 99, "s": "with the index"})
        live[b].append(doc)
    with db.transaction() as tx:
        tx.drop_table(b)
    with db.transaction() as tx:
        tx.undrop_table(b)
        dropped = tx.create_index(a, "gone")
    with db.transaction() as tx:
        tx.drop_index(a, dropped)
    redacted = _redact_one(db, a, live, alone=redaction_alone)
    return {"A": a, "B": b, "live": live, "late_index": late_index, "redacted": redacted}


def _random_write(tx: Any, rng: random.Random, live: dict[str, list[str]], i: int) -> None:
    table = rng.choice(sorted(live))
    docs = live[table]
    roll = rng.random()
    if not docs or roll < 0.5:
        value = {
            "k": rng.choice([i, str(i), ion.loads("1.50"), None]),
            "n": i,
            "pad": "x" * rng.randint(0, 40),
        }
        docs.append(tx.insert(table, value))
        return
    doc = rng.choice(docs)
    if roll < 0.85:
        tx.update(table, doc, {"k": rng.randint(0, 5), "n": i, "nested": {"l": [1, 2.5, True]}})
    else:
        tx.delete(table, doc)
        docs.remove(doc)


def _redact_one(db: Any, table: str, live: dict[str, list[str]], *, alone: bool) -> tuple[int, str]:
    """Update a document twice, then redact its first revision."""
    with db.transaction() as tx:
        doc = tx.insert(table, {"k": "secret", "n": -1})
        live[table].append(doc)
    first = tx.block_address
    with db.transaction() as tx:
        tx.update(table, doc, {"k": "public", "n": -2})
    with db.transaction() as tx:
        tx.redact(BlockAddress(db.strand_id, first.sequence_no), table, doc)
        if not alone:
            live[table].append(tx.insert(table, {"k": "beside the redaction"}))
    return first.sequence_no, doc


def blocks(db: Any) -> list[Any]:
    txn = db.journal.store.read()
    try:
        return [stored_blocks.decode(v) for _, v in txn.range("blocks")]
    finally:
        txn.close()


def block_hashes(db: Any) -> list[bytes]:
    return [bytes(b["blockHash"]) for b in blocks(db)]


# -- copies and corruption ----------------------------------------------------------------------------
def scratch_dir(prefix: str = "ledger-proof-") -> Path:
    """A fresh directory, in memory when /dev/shm exists: LMDB syncs every write, and
    the corruption properties make hundreds of small copies."""
    shm = Path("/dev/shm")
    where = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=where))


def copy_ledger(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit(path: Path, fn: Callable[[Any], None]) -> None:
    """Run ``fn(write_txn)`` on the ledger at ``path`` (which must not be open elsewhere)."""
    with ledger.connect(path) as db:
        db.journal.store.write(fn)


def entries(path: Path, name: str) -> list[tuple[bytes, bytes]]:
    with ledger.connect(path, readonly=True) as db:
        txn = db.journal.store.read()
        try:
            return list(txn.range(name))
        finally:
            txn.close()


def verify_path(path: Path, **kwargs: Any) -> Any:
    from ledger.proof.verify import verify

    with ledger.connect(path, readonly=True) as db:
        return verify(db.journal, **kwargs)
