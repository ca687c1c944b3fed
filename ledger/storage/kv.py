"""The storage interface: named databases of ordered byte keys, with transactions.

A second backend (e.g. PostgreSQL) implements these three classes and nothing above
storage changes.  Keys compare as unsigned bytes; a range scan is half-open
``[start, stop)``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
P = TypeVar("P")

# Every named database and its one job (see docs/architecture.md).
DBS = (
    "meta",  # format version, ledger name, strand id, creation time
    "blocks",  # sequenceNo -> the whole block, Ion binary, as hashed
    "block_hashes",  # sequenceNo -> 32-byte blockHash (level 0 of the ledger tree)
    "tree",  # (level, index) -> root of a complete subtree of the ledger tree
    "tables",  # tableId -> table record (name, status, indexes, tags)
    "table_seq",  # tableId -> sequenceNo of the last block that changed the table
    "docs",  # (tableId, docId) -> current revision: header + data (Ion binary)
    "revisions",  # (docId, version) -> (sequenceNo, index in block)
    "history",  # (tableId, sequenceNo, index) -> (docId, version)
    "index",  # (indexId, encoded value, docId) -> empty
    "times",  # (blockTimestamp ms, sequenceNo) -> empty
)


class ReadTxn(ABC):
    """A consistent snapshot of every named database."""

    @abstractmethod
    def get(self, db: str, key: bytes) -> bytes | None: ...

    def get_head(self, db: str, key: bytes) -> bytes | None:
        """The value, or a beginning of it that is at hand: a store that keeps large
        values in pieces (lmdb_store.CHUNKED) returns the first piece; None if absent."""
        return self.get(db, key)

    @abstractmethod
    def range(
        self,
        db: str,
        start: bytes | None = None,
        stop: bytes | None = None,
        *,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Items with ``start <= key < stop`` in key order (descending if reverse)."""

    def prefix(self, db: str, prefix: bytes, *, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        return self.range(db, prefix, prefix_end(prefix), reverse=reverse)

    def keys(self, db: str, start: bytes, stop: bytes | None) -> list[bytes]:
        """The keys with ``start <= key < stop``, in order (a point read's index lookup:
        a list, not a generator; a backend may answer it more directly)."""
        return [key for key, _ in self.range(db, start, stop)]

    def last(self, db: str) -> tuple[bytes, bytes] | None:
        for item in self.range(db, reverse=True):
            return item
        return None

    @abstractmethod
    def close(self) -> None: ...


class WriteTxn(ReadTxn):
    """A snapshot that can also write; committed by ``KVStore.write``."""

    @abstractmethod
    def put(self, db: str, key: bytes, value: bytes) -> None: ...

    @abstractmethod
    def delete(self, db: str, key: bytes) -> None: ...


class KVStore(ABC):
    path: str
    readonly: bool

    @abstractmethod
    def read(self) -> ReadTxn:
        """Open a snapshot; the caller closes it."""

    @abstractmethod
    def write(self, fn: Callable[[WriteTxn], T]) -> T:
        """Run ``fn`` in one write transaction and commit it durably.

        ``fn`` may run more than once (e.g. after the store grows), so it must not
        have effects outside the transaction until it returns.  If it raises,
        nothing is written.
        """

    def write_grouped(self, plan: Callable[[WriteTxn], P], apply: Callable[[WriteTxn, P], T]) -> T:
        """``write(lambda w: apply(w, plan(w)))``, but the store may run several threads'
        pairs in one write transaction (group commit, storage/group.py).

        ``plan`` checks and must write nothing when it raises one of the ledger's errors:
        that fails this caller alone.  ``apply`` writes.
        """
        return self.write(lambda w: apply(w, plan(w)))

    def watch(self) -> Watch:
        """A watch on this store's commits, for a reader waiting for the next one:
        open it, check the state, then ``wait``; a commit in between is not missed."""
        return PollingWatch()

    @abstractmethod
    def close(self) -> None: ...


class Watch:
    """Waits for a commit to the store (any process) since it was opened or last woke."""

    def wait(self, timeout: float) -> bool:
        """True when a commit may have happened, False after ``timeout`` seconds without."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PollingWatch(Watch):
    """For stores that cannot be told: wakes every ``interval`` seconds to let the
    caller look again (a commit may have happened)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval

    def wait(self, timeout: float) -> bool:
        time.sleep(max(0.0, min(timeout, self.interval)))
        return timeout >= self.interval


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
