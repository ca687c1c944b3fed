"""``ledger copy SRC DST``: a ledger moved between backends (LMDB <-> PostgreSQL), checked.

Every named database is copied key for key from one snapshot of the source, in
batches, the ``meta`` records (what makes the destination a ledger) last.  Then the
destination's digest is computed from its own stored tree and compared with the
source's at the same tip: blocks, hashes, summary and indexes are the same bytes, so
proofs, saved digests and ``ledger verify`` hold on the copy as on the original.  A
destination that already holds a ledger is refused; a failed copy removes what it
wrote.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from ledger.errors import DataError, VerificationError
from ledger.journal.journal import Journal
from ledger.storage import is_url, open_store
from ledger.storage.kv import DBS, KVStore, ReadTxn

BATCH = 2000  # keys per destination write


@dataclass(frozen=True)
class CopyResult:
    source: str
    destination: str
    keys: int
    digest: bytes
    tip_seq: int
    strand_id: str


def copy_ledger(
    source: str, destination: str, *, progress: Callable[[int], None] | None = None
) -> CopyResult:
    """Copy the ledger at ``source`` to ``destination`` (each a directory or a URL)."""
    created_dir = not is_url(destination) and not os.path.exists(destination)
    _refuse_existing_directory(destination)
    src = open_store(source, readonly=True)
    try:
        src_journal = Journal(src)
        snapshot = src.read()
        try:
            digest, tip = src_journal.digest(snapshot)
            dst = open_store(destination)
            try:
                _refuse_existing_ledger(dst)
            except BaseException:
                dst.close()  # someone else's ledger: leave it alone
                raise
            try:
                keys = _copy_all(snapshot, dst, progress)
                _check_digest(dst, digest, tip)
                shown = dst.path
            except BaseException:
                _remove(dst, destination, created_dir)
                raise
            dst.close()
        finally:
            snapshot.close()
    finally:
        src.close()
    return CopyResult(src.path, shown, keys, digest, tip, src_journal.strand_id)


def _refuse_existing_directory(destination: str) -> None:
    if is_url(destination) or not os.path.exists(destination):
        return
    if not os.path.isdir(destination) or os.listdir(destination):
        raise DataError(f"{destination} already exists; copy makes a new ledger")


def _refuse_existing_ledger(dst: KVStore) -> None:
    txn = dst.read()
    try:
        if any(True for _ in txn.range("meta")):
            raise DataError(f"{dst.path} already holds a ledger; copy makes a new one")
    finally:
        txn.close()


def _copy_all(snapshot: ReadTxn, dst: KVStore, progress: Callable[[int], None] | None) -> int:
    copied = 0
    for db in [name for name in DBS if name != "meta"] + ["meta"]:  # meta last
        batch: list[tuple[bytes, bytes]] = []
        for item in snapshot.range(db):
            batch.append(item)
            if len(batch) >= BATCH:
                copied += _put_all(dst, db, batch)
                batch = []
                if progress is not None:
                    progress(copied)
        if batch:
            copied += _put_all(dst, db, batch)
    return copied


def _put_all(dst: KVStore, db: str, items: list[tuple[bytes, bytes]]) -> int:
    dst.write(lambda w: [w.put(db, k, v) for k, v in items])
    return len(items)


def _check_digest(dst: KVStore, digest: bytes, tip: int) -> None:
    txn = dst.read()
    try:
        copied, copied_tip = Journal(dst).digest(txn)
    finally:
        txn.close()
    if (copied, copied_tip) != (digest, tip):
        raise VerificationError(
            f"the copy's digest at block {copied_tip} ({copied.hex()}) differs from the "
            f"source's at block {tip} ({digest.hex()}); the copy was removed"
        )


def _remove(dst: KVStore, destination: str, created_dir: bool) -> None:
    """Undo a failed copy: drop the PostgreSQL schema, or the directory we created."""
    drop = getattr(dst, "drop", None)
    try:
        if drop is not None:
            drop()
    finally:
        dst.close()
    if created_dir:
        shutil.rmtree(destination, ignore_errors=True)
    elif not is_url(destination):  # an empty directory given to us: empty it again
        for name in os.listdir(destination):
            os.remove(os.path.join(destination, name))
