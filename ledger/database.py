"""The Python client: ``ledger.connect(path)`` and the ``Ledger`` it returns."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ledger.cursor import Cursor
from ledger.errors import (
    ConnectionLostError,
    InterfaceError,
    NoLedgerError,
    OccConflictError,
    StorageError,
)
from ledger.ion import VALUE_MODELS
from ledger.journal.journal import Journal
from ledger.journal.limits import Limits
from ledger.journal.transaction import Transaction
from ledger.query.context import BlockAddress
from ledger.storage import is_url, lmdb_store, open_store, store_name
from ledger.storage.kv import ReadTxn
from ledger.storage.lmdb_store import DEFAULT_MAP_SIZE

if TYPE_CHECKING:  # the audit side loads when first used: plain queries start faster
    from ledger.proof import proofs
    from ledger.proof.export import ExportResult
    from ledger.proof.signing import SavedDigest
    from ledger.proof.verify import Progress, VerifyReport

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
        value_model: str = "may_be_bare",
        create: bool | None = None,
    ) -> None:
        if value_model not in VALUE_MODELS:
            raise InterfaceError(
                f"value_model must be one of {', '.join(VALUE_MODELS)}, got {value_model!r}"
            )
        self.value_model = value_model
        self._tempdir: str | None = None
        self._cleanup: weakref.finalize[Any, Any] | None = None
        text = os.fspath(path)
        if text == MEMORY:
            self._tempdir = tempfile.mkdtemp(prefix="ledger-")
            # removed on close(), when the Ledger is garbage, or when Python exits
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tempdir, True)
            text = os.path.join(self._tempdir, "memory.ledger")
        elif not is_url(text):
            _check_create(text, readonly=readonly, create=create)
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
        tx = Transaction(self.journal)
        tx.value_model = self.value_model
        return tx

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
        from ledger.proof import proofs

        return self._read(lambda txn: proofs.get_block(self.journal, txn, block_address, tip))

    def get_revision(
        self,
        block_address: proofs.Address,
        document_id: str,
        tip: proofs.Address | None = None,
    ) -> tuple[Any, list[bytes] | None]:
        """QLDB's GetRevision: a document's revision in a block and, given a tip, its proof."""
        from ledger.proof import proofs

        return self._read(
            lambda txn: proofs.get_revision(self.journal, txn, block_address, document_id, tip)
        )

    def consistency_proof(
        self, old_tip: proofs.Address, new_tip: proofs.Address | None = None
    ) -> list[bytes]:
        """Proof that the journal at ``new_tip`` (default: now) extends the one at ``old_tip``."""
        from ledger.proof import proofs

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
        from ledger.proof import verify as journal_verify

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
        from ledger.proof import export as journal_export

        return journal_export.export(self.journal, directory, start, end, fmt)

    def export_to_bucket(
        self, bucket_dir: str | os.PathLike[str], prefix: str = "", **options: Any
    ) -> ExportResult:
        """An export in QLDB's S3 layout under ``bucket_dir`` (see
        ``ledger.proof.bucket.export_to_bucket`` for ``start``, ``end``,
        ``output_format``, ``export_id``, ``bucket``)."""
        self._check_open()
        from ledger.proof.bucket import export_to_bucket

        return export_to_bucket(self.journal, bucket_dir, prefix, **options)

    def stream(
        self,
        start: int | datetime | None = None,
        end: int | datetime | None = None,
        *,
        follow: bool = False,
        stream_id: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The journal as QLDB Streams' records (docs/stream.md), oldest block first.

        ``start``: a block sequenceNo or a time (the first block at or after it);
        ``end`` (exclusive): a sequenceNo or a time.  Yields CONTROL CREATED, then each
        block's BLOCK_SUMMARY and REVISION_DETAILS records, then CONTROL COMPLETED when
        it reaches ``end``.  Without ``end`` it stops at the last block (no COMPLETED:
        like QLDB's, a stream without an end never completes); with ``follow`` it waits
        for new commits until ``end``, or until ``cancel`` is set.
        """
        self._check_open()
        from ledger.stream import deliver

        name = os.path.splitext(os.path.basename(os.path.abspath(self.path)))[0]
        spec = deliver.StreamSpec(start, end, follow, stream_id, name)
        for record in deliver.records(self.journal, spec, path=self.path, cancel=cancel):
            if record is not None:
                yield record.value

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
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError(f"ledger {self.path} is closed")

    def __repr__(self) -> str:
        return f"<Ledger {self.path!r}>"


def _check_create(path: str, *, readonly: bool, create: bool | None) -> None:
    """Refuse what ``create`` rules out before anything is written (see ``connect``)."""
    state = lmdb_store.path_state(path)
    if state == lmdb_store.LEDGER:
        if create:
            raise StorageError(f"a ledger already exists at {path}")
        return
    if state in (lmdb_store.MISSING, lmdb_store.EMPTY) and (create is False or readonly):
        raise NoLedgerError(path)
    # FILE and OTHER are refused by the store, which never writes into them


def connect(
    path: str | os.PathLike[str] = MEMORY,
    *,
    readonly: bool = False,
    limits: Limits | None = None,
    map_size: int = DEFAULT_MAP_SIZE,
    value_model: str = "may_be_bare",
    create: bool | None = None,
) -> Ledger:
    """Open the ledger at ``path`` (a directory).

    ``create`` says whether a new ledger may be made:

    - ``None`` (the default): open the ledger there, or make a new one when ``path``
      is missing or an empty directory;
    - ``False``: only open; ``NoLedgerError`` when there is no ledger at ``path``;
    - ``True``: only make a new one; ``StorageError`` when a ledger is already there.

    Whatever ``create`` says, a file or a non-empty directory that is not a ledger is
    refused with ``StorageError`` and nothing is written into it.  ``readonly`` opens
    only (as ``create=False``).  ``":memory:"`` gives a throwaway ledger in a temporary
    directory, removed on close, when the ``Ledger`` is garbage-collected, or at exit.
    ``value_model``: ``"may_be_bare"`` (default: plain Python values where the Ion type
    is unambiguous, IonPy types where needed) or ``"ion_py"`` (every value an IonPy
    type, as pyqldb returns them).

    ``path`` may also be a PostgreSQL URL, ``postgresql://user@host:5432/db?ledger=name``
    (docs/postgres.md): the ledger lives in that database, shared by every process
    that opens the URL.
    """
    return Ledger(
        path,
        readonly=readonly,
        limits=limits,
        map_size=map_size,
        value_model=value_model,
        create=create,
    )
