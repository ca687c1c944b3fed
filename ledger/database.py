"""The Python client: ``ledger.connect(path)`` and the ``Ledger`` it returns."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ledger.cursor import Cursor
from ledger.errors import ConnectionLostError, InterfaceError, OccConflictError
from ledger.journal.journal import Journal
from ledger.journal.limits import Limits
from ledger.journal.transaction import Transaction
from ledger.proof import export as journal_export
from ledger.proof import proofs
from ledger.proof import verify as journal_verify
from ledger.proof.export import ExportResult
from ledger.proof.signing import SavedDigest
from ledger.proof.verify import Progress, VerifyReport
from ledger.query.context import BlockAddress
from ledger.storage import open_store, store_name
from ledger.storage.kv import ReadTxn
from ledger.storage.lmdb_store import DEFAULT_MAP_SIZE

T = TypeVar("T")
MEMORY = ":memory:"


@dataclass(frozen=True)
class Digest:
    """The ledger digest: the merkle root over every blockHash, and the tip it covers."""

    digest: bytes
    tip: BlockAddress

    def tip_ion_text(self) -> str:
        return f'{{strandId:"{self.tip.strand_id}",sequenceNo:{self.tip.sequence_no}}}'


class Ledger:
    """An open ledger.  Thread-safe: each thread may run its own transactions."""

    def __init__(
        self,
        path: str | os.PathLike[str] = MEMORY,
        *,
        readonly: bool = False,
        limits: Limits | None = None,
        map_size: int = DEFAULT_MAP_SIZE,
    ) -> None:
        self._tempdir: str | None = None
        text = os.fspath(path)
        if text == MEMORY:
            self._tempdir = tempfile.mkdtemp(prefix="ledger-")
            text = os.path.join(self._tempdir, "memory.ledger")
        self._store = open_store(text, readonly=readonly, map_size=map_size)
        self.path = self._store.path  # a URL without its password
        try:
            self.journal = Journal(self._store, limits, name=store_name(text))
        except BaseException:
            self._store.close()
            raise
        self._closed = False

    # -- statements and transactions --------------------------------------------------
    def transaction(self) -> Transaction:
        """A new transaction; use as a context manager (commit on success, abort on error)."""
        self._check_open()
        return Transaction(self.journal)

    def execute(self, statement: str, *params: Any, mode: str = "permissive") -> Cursor:
        """Run one statement in its own transaction and commit it (``mode``: see
        Transaction.execute)."""
        with self.transaction() as tx:
            return tx.execute(statement, *params, mode=mode)

    def execute_lambda(
        self,
        fn: Callable[[Transaction], T],
        *,
        retries: int = 4,
        backoff: float = 0.01,
    ) -> T:
        """Run ``fn(tx)`` in a transaction, retrying it on OCC conflicts (as QLDB drivers do)
        and when a PostgreSQL server went away before the transaction committed.

        Backoff is exponential with full jitter, starting at ``backoff`` seconds.
        """
        attempt = 0
        while True:
            try:
                with self.transaction() as tx:
                    return fn(tx)
            except (OccConflictError, ConnectionLostError):
                if attempt >= retries:
                    raise
                time.sleep(random.uniform(0, backoff * (2**attempt)))
                attempt += 1

    # -- the journal ------------------------------------------------------------------
    def digest(self) -> Digest:
        """The digest of the whole journal and its tip address."""
        digest, seq = self._read(self.journal.digest)
        return Digest(digest, self.journal.address(seq))

    @property
    def strand_id(self) -> str:
        return self.journal.strand_id

    def get_block(
        self, block_address: proofs.Address, tip: proofs.Address | None = None
    ) -> tuple[Any, list[bytes] | None]:
        """QLDB's GetBlock: the block and, given a digest tip, its proof to that digest."""
        return self._read(lambda txn: proofs.get_block(self.journal, txn, block_address, tip))

    def get_revision(
        self,
        block_address: proofs.Address,
        document_id: str,
        tip: proofs.Address | None = None,
    ) -> tuple[Any, list[bytes] | None]:
        """QLDB's GetRevision: a document's revision in a block and, given a tip, its proof."""
        return self._read(
            lambda txn: proofs.get_revision(self.journal, txn, block_address, document_id, tip)
        )

    def consistency_proof(
        self, old_tip: proofs.Address, new_tip: proofs.Address | None = None
    ) -> list[bytes]:
        """Proof that the journal at ``new_tip`` (default: now) extends the one at ``old_tip``."""
        return self._read(lambda txn: proofs.consistency(self.journal, txn, old_tip, new_tip))

    def verify(
        self,
        *,
        saved_digest: SavedDigest | None = None,
        progress: Progress | None = None,
    ) -> VerifyReport:
        """Recompute every hash, the chain and the digest, and check the summary against
        a replay of the journal (``ledger verify``); with ``saved_digest``, also prove
        that digest is a prefix of today's journal."""
        self._check_open()
        return journal_verify.verify(self.journal, saved_digest=saved_digest, progress=progress)

    def export(
        self,
        directory: str | os.PathLike[str],
        start: Any = None,
        end: Any = None,
        fmt: str = "ion_text",
    ) -> ExportResult:
        """Write the journal (or a time range of it) in QLDB's journal export format."""
        self._check_open()
        return journal_export.export(self.journal, directory, start, end, fmt)

    def _read(self, fn: Callable[[ReadTxn], T]) -> T:
        self._check_open()
        txn = self._store.read()
        try:
            return fn(txn)
        finally:
            txn.close()

    # -- life cycle ---------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._store.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError(f"ledger {self.path} is closed")

    def __repr__(self) -> str:
        return f"<Ledger {self.path!r}>"


def connect(
    path: str | os.PathLike[str] = MEMORY,
    *,
    readonly: bool = False,
    limits: Limits | None = None,
    map_size: int = DEFAULT_MAP_SIZE,
) -> Ledger:
    """Open the ledger at ``path`` (a directory), creating it if missing.

    ``path`` may also be a PostgreSQL URL, ``postgresql://user@host:5432/db?ledger=name``
    (docs/postgres.md): the ledger lives in that database, shared by every process
    that opens the URL.  ``":memory:"`` gives a throwaway ledger in a temporary
    directory, removed on close.
    """
    return Ledger(path, readonly=readonly, limits=limits, map_size=map_size)
