"""The LMDB implementation of the storage interface.

One LMDB environment per ledger directory, one named database per job (kv.DBS).
Writes are durable (sync and metasync on).  The map grows on demand: a write that
fills it is aborted, the map doubled once no snapshot of this process is open, and
the write run again, so no MapFullError reaches the user.  Several processes may open
one ledger: LMDB serializes writers, and a process that sees the map grown by another
adopts the new size.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import lmdb

from ledger.errors import StorageError
from ledger.storage import chunks
from ledger.storage.group import GroupWriter
from ledger.storage.kv import DBS, KVStore, ReadTxn, WriteTxn

T = TypeVar("T")
P = TypeVar("P")

DEFAULT_MAP_SIZE = 256 << 20  # grows by doubling
GROW_WAIT_SECONDS = 60.0
# Databases whose large values are stored in page-filling pieces (storage/chunks.py),
# and the one length of their keys.
CHUNKED = {"blocks": 8}
# Databases whose new keys mostly sort after every other (sequence numbers, times, ids
# issued in ascending order): a put tries MDB_APPEND first, which fills each leaf page
# before starting the next (a plain put at the right edge moves the full page's last
# node to the new page: ~94% full pages), and falls back to a plain put when the key
# is not the greatest.  Not index: its keys are values, in no particular order.
APPEND_FIRST = frozenset({"block_hashes", "times", "docs", "revisions", "history"})


class _LmdbRead(ReadTxn):
    """A snapshot.  Read transactions are begun with ``buffers=True`` (values are views
    of the map, not copies); every method returns bytes."""

    def __init__(self, store: LmdbStore, txn: Any) -> None:
        self._store = store
        self._txn = txn
        self._dbs = store._shared.dbs  # name -> handle (store.handle, without the call)
        self._closed = False

    def get(self, db: str, key: bytes) -> bytes | None:
        if db in CHUNKED and len(key) == CHUNKED[db]:
            return _get_chunked(self._txn.cursor(db=self._dbs[db]), key)
        value = self._txn.get(key, db=self._dbs[db])
        return None if value is None else bytes(value)

    def last(self, db: str) -> tuple[bytes, bytes] | None:
        """The last item in one cursor step, not through range()'s generator (~0.8 us
        instead of ~2.7; the journal's tip asks three times a commit).  Every value is
        stored whole under its key except in CHUNKED databases, whose pieces only
        range() joins."""
        if db in CHUNKED:
            return super().last(db)
        cursor = self._txn.cursor(db=self._dbs[db])
        return (bytes(cursor.key()), bytes(cursor.value())) if cursor.last() else None

    def get_head(self, db: str, key: bytes) -> bytes | None:
        handle = self._dbs[db]
        if db in CHUNKED:
            first = self._txn.get(key + b"\x00", db=handle)  # chunks.piece_key(key, 0)
            if first is not None:
                return bytes(first)
        value = self._txn.get(key, db=handle)
        return None if value is None else bytes(value)

    def range(
        self,
        db: str,
        start: bytes | None = None,
        stop: bytes | None = None,
        *,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        cursor = self._txn.cursor(db=self._dbs[db])
        entries = _backward(cursor, start, stop) if reverse else _forward(cursor, start, stop)
        if db in CHUNKED:
            return chunks.join(CHUNKED[db], entries, reverse=reverse)
        return entries

    def keys(self, db: str, start: bytes, stop: bytes | None) -> list[bytes]:
        cursor = self._txn.cursor(db=self._dbs[db])
        found: list[bytes] = []
        if not cursor.set_range(start):
            return found
        for view in cursor.iternext(keys=True, values=False):
            key = bytes(view)
            if stop is not None and key >= stop:
                break
            found.append(key)
        return found

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._txn.abort()
            self._store.reader_closed()


class _LmdbWrite(_LmdbRead, WriteTxn):
    def put(self, db: str, key: bytes, value: bytes) -> None:
        handle = self._store.handle(db)
        if db not in CHUNKED:
            if not (db in APPEND_FIRST and self._txn.put(key, value, db=handle, append=True)):
                self._txn.put(key, value, db=handle)
            return
        _check_chunked_key(db, key)
        # Past the last key (a new block), MDB_APPEND fills each leaf page before
        # starting the next, where a plain put leaves the last node of every full
        # page to the next one (~80% full pages for ~700-byte pieces).
        pieces = chunks.pieces(value)
        if pieces is None:  # stored whole: appended, or replacing what the key held
            if not self._txn.put(key, value, db=handle, append=True):
                _delete_chunked(self._txn.cursor(db=handle), key)
                self._txn.put(key, value, db=handle)
            return
        items = [(chunks.piece_key(key, i), piece) for i, piece in enumerate(pieces)]
        cursor = self._txn.cursor(db=handle)
        if not cursor.last() or cursor.key() < key:
            if cursor.putmulti(items, append=True)[1] == len(items):
                return
        _delete_chunked(cursor, key)
        cursor.putmulti(items)

    def delete(self, db: str, key: bytes) -> None:
        handle = self._store.handle(db)
        if db in CHUNKED and len(key) == CHUNKED[db]:
            _delete_chunked(self._txn.cursor(db=handle), key)
        else:
            self._txn.delete(key, db=handle)


def _is_piece_of(found: bytes, key: bytes) -> bool:
    return len(found) == len(key) + 1 and found.startswith(key)


def _get_chunked(cursor: Any, key: bytes) -> bytes | None:
    """A chunked database's value: stored whole under ``key``, or its pieces joined."""
    if not cursor.set_range(key):
        return None
    found = bytes(cursor.key())  # read snapshots give buffers
    if found == key:
        return bytes(cursor.value())
    if not _is_piece_of(found, key):
        return None
    pieces = []
    for found, piece in cursor.iternext():
        if not _is_piece_of(bytes(found), key):
            break
        pieces.append(piece)
    return b"".join(pieces)


def _delete_chunked(cursor: Any, key: bytes) -> None:
    """Remove ``key``'s value, whole or in pieces (nothing if there is none)."""
    found = cursor.set_range(key)
    while found and (cursor.key() == key or _is_piece_of(cursor.key(), key)):
        found = cursor.delete() and cursor.key()


def _check_chunked_key(db: str, key: bytes) -> None:
    if len(key) != CHUNKED[db]:
        raise StorageError(f"a key of {db} has {CHUNKED[db]} bytes, got {len(key)}: {key!r}")


def _forward(cursor: Any, start: bytes | None, stop: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    found = cursor.set_range(start) if start else cursor.first()
    while found:
        key = bytes(cursor.key())
        if stop is not None and key >= stop:
            return
        yield key, bytes(cursor.value())
        found = cursor.next()


def _backward(cursor: Any, start: bytes | None, stop: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    if stop is None:
        found = cursor.last()
    elif cursor.set_range(stop):
        found = cursor.prev()
    else:
        found = cursor.last()
    while found:
        key = bytes(cursor.key())
        if start is not None and key < start:
            return
        yield key, bytes(cursor.value())
        found = cursor.prev()


class _Env:
    """One LMDB environment, shared by every LmdbStore of this process on the same path
    (LMDB forbids opening an environment twice in one process)."""

    def __init__(self, path: str, readonly: bool, map_size: int) -> None:
        self.path = path
        self.readonly = readonly
        self.env = _open_env(path, readonly, map_size)
        self.users = 0
        self.readers = 0
        self.waiting = 0  # threads waiting for the readers to go (a map grow)
        self.lock = threading.RLock()  # readers' count; entered directly (C) on each snapshot
        self.cond = threading.Condition(self.lock)
        self._refuse_foreign()
        try:
            self.dbs = {name: self.env.open_db(name.encode(), create=not readonly) for name in DBS}
        except lmdb.NotFoundError as exc:
            self.env.close()
            raise StorageError(f"{path} is not a ledger (missing database: {exc})") from exc
        except lmdb.Error as exc:
            self.env.close()
            raise StorageError(f"cannot open {path}: {exc}") from exc


    def _refuse_foreign(self) -> None:
        """An LMDB file with data but no ledger databases belongs to another program."""
        with self.env.begin() as txn:
            names = [bytes(key) for key, _ in txn.cursor()]
        if names and b"meta" not in names:
            self.env.close()
            raise StorageError(
                f"{self.path} is not a ledger: it is an LMDB database of another program"
            )


_ENVS: dict[str, _Env] = {}
_ENVS_LOCK = threading.Lock()


def _acquire(path: str, readonly: bool, map_size: int) -> _Env:
    key = os.path.realpath(path)
    with _ENVS_LOCK:
        shared = _ENVS.get(key)
        if shared is None:
            shared = _ENVS[key] = _Env(path, readonly, map_size)
        elif shared.readonly and not readonly:
            raise StorageError(f"{path} is already open read-only in this process")
        shared.users += 1
        return shared


def _release(shared: _Env) -> None:
    with _ENVS_LOCK:
        shared.users -= 1
        if shared.users == 0:
            _ENVS.pop(os.path.realpath(shared.path), None)
            shared.env.close()


class LmdbStore(KVStore):
    """A ledger directory holding one LMDB environment."""

    def __init__(self, path: str, *, readonly: bool = False, map_size: int = DEFAULT_MAP_SIZE) -> None:
        self.path = path
        self.readonly = readonly
        self._shared = _acquire(path, readonly, map_size)
        self._env = self._shared.env
        self._cond = self._shared.cond
        self._lock = self._shared.lock
        self._closed = False
        self._group = GroupWriter(lambda fn: self.write(fn))

    def handle(self, db: str) -> Any:
        return self._shared.dbs[db]

    # -- snapshots -------------------------------------------------------------
    def read(self) -> ReadTxn:
        self._reader_opened()
        try:
            return _LmdbRead(self, self._begin(write=False))
        except BaseException:
            self.reader_closed()
            raise

    def _reader_opened(self) -> None:
        with self._lock:
            self._shared.readers += 1

    def reader_closed(self) -> None:
        with self._lock:
            self._shared.readers -= 1
            if self._shared.waiting:  # a grow waits for the readers to go
                self._cond.notify_all()

    def _begin(self, *, write: bool) -> Any:
        try:
            return self._env.begin(write=write, buffers=not write)
        except lmdb.MapResizedError:
            # Another process grew the map: adopt its size, then retry once.
            self._adopt_size()
            return self._env.begin(write=write, buffers=not write)
        except lmdb.Error as exc:
            raise StorageError(f"cannot begin a transaction on {self.path}: {exc}") from exc

    # -- writes ----------------------------------------------------------------
    def write(self, fn: Callable[[WriteTxn], T]) -> T:
        if self.readonly:
            raise StorageError(f"{self.path} is open read-only")
        while True:
            txn = self._begin(write=True)
            self._reader_opened()
            writer = _LmdbWrite(self, txn)
            try:
                result = fn(writer)
                txn.commit()
                writer._closed = True
                self.reader_closed()
                return result
            except lmdb.MapFullError:
                writer.close()
                self._grow()
            except lmdb.Error as exc:
                writer.close()
                raise StorageError(f"write to {self.path} failed: {exc}{_space_hint(self.path)}") from exc
            except BaseException:
                writer.close()
                raise

    def write_grouped(self, plan: Callable[[WriteTxn], P], apply: Callable[[WriteTxn, P], T]) -> T:
        """Concurrent threads' writes share one LMDB write and one fsync (storage/group.py)."""
        return self._group.submit(plan, apply)

    def _grow(self) -> None:
        with self._cond:
            if not self._wait_for(lambda: self._shared.readers == 0):
                raise StorageError(
                    f"{self.path}: the map is full and could not grow while "
                    f"{self._shared.readers} transaction(s) stayed open"
                )
            size = self._env.info()["map_size"]
            try:
                self._env.set_mapsize(size * 2)
            except lmdb.Error as exc:
                raise StorageError(f"{self.path}: cannot grow the map to {size * 2} bytes: {exc}") from exc

    def _adopt_size(self) -> None:
        with self._cond:
            self._wait_for(lambda: self._shared.readers <= 1)
            self._env.set_mapsize(0)

    def _wait_for(self, predicate: Callable[[], bool]) -> bool:
        """``self._cond.wait_for(predicate)`` (the caller holds it), counted as a waiter
        so that closing readers notify."""
        self._shared.waiting += 1
        try:
            return self._cond.wait_for(predicate, GROW_WAIT_SECONDS)
        finally:
            self._shared.waiting -= 1

    def map_size(self) -> int:
        return int(self._env.info()["map_size"])

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self._shared)


def _space_hint(path: str) -> str:
    """A hint when the failure is likely a full disk (LMDB reports it as an I/O error)."""
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return ""
    if free >= 1 << 20:
        return ""
    return f" (the disk holding the ledger has {free} bytes free: it is probably full; nothing was written)"


MISSING = "missing"  # what a path holds, for path_state()
EMPTY = "empty"
LEDGER = "ledger"
FILE = "file"
OTHER = "other"  # a non-empty directory that is not a ledger


def path_state(path: str) -> str:
    """What ``path`` holds: MISSING, EMPTY (directory), LEDGER, FILE or OTHER.

    A ledger is a directory holding LMDB's data.mdb.  Nothing is ever written into
    an OTHER directory: it belongs to someone else (a mistyped path, /etc, ...).
    """
    if not os.path.lexists(path):
        return MISSING
    if not os.path.isdir(path):
        return FILE
    if os.path.isfile(os.path.join(path, "data.mdb")):
        return LEDGER
    try:
        with os.scandir(path) as entries:
            return OTHER if any(True for _ in entries) else EMPTY
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _check_path(path: str, readonly: bool) -> None:
    state = path_state(path)
    if state == FILE:
        raise StorageError(f"{path} is not a ledger: it is a file, a ledger is a directory")
    if state == OTHER:
        raise StorageError(
            f"{path} is not a ledger: it is a directory with other files in it "
            "(a new ledger needs a missing or empty directory)"
        )
    if readonly and state != LEDGER:
        raise StorageError(f"{path} is not a ledger (no data.mdb)")


def _open_env(path: str, readonly: bool, map_size: int) -> Any:
    _check_path(path, readonly)
    if not readonly:
        os.makedirs(path, mode=0o700, exist_ok=True)
    existing = os.path.join(path, "data.mdb")
    if os.path.exists(existing):
        map_size = max(map_size, os.path.getsize(existing) * 2)
    kwargs: dict[str, Any] = {
        "subdir": True,
        "map_size": map_size,
        "max_dbs": len(DBS) + 2,
        "mode": 0o600,
        "sync": True,
        "metasync": True,
        "readahead": False,
        "max_readers": 512,
    }
    try:
        return lmdb.open(path, readonly=readonly, **kwargs)
    except lmdb.Error as exc:
        if readonly:
            try:  # a read-only file system cannot hold the lock file
                return lmdb.open(path, readonly=True, lock=False, **kwargs)
            except lmdb.Error:
                pass
        raise StorageError(f"cannot open ledger {path}: {exc}") from exc
