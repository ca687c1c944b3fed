"""Waiting for the next commit without polling the disk in a loop.

Every commit writes the ledger's ``data.mdb`` with ``pwrite`` (LMDB without WRITEMAP),
which Linux reports through inotify as IN_MODIFY, whichever process committed.  So a
follower sleeps in ``poll()`` on an inotify descriptor (``inotify_simple``, a ctypes
wrapper of the kernel calls) and wakes when the file changes; it then reads the tip,
one cheap LMDB read.  A wake-up pipe lets another thread end the wait at once
(``wake()``: cancellation, or an in-process notification).

The wait is still capped (``interval``, 1 s by default) so that a change inotify cannot
see (a ledger on a network file system) is noticed within that time; without inotify
(another OS, the package missing) the waiter sleeps for the interval, which is the
whole fallback.

A ledger in PostgreSQL has no file to watch: there the waiter listens through the
store's own ``watch()`` (LISTEN/NOTIFY, sent by every commit), in slices of at most
``WAKE_SLICE`` so that ``wake()`` still ends a wait promptly.

One race needs care: LMDB writes the meta page (the last file write of a commit, so
the last event) and only then publishes the new transaction id in lock.mdb's shared
memory, which raises no event.  A reader woken by that event can still begin on the
old snapshot.  So for a short while after an event (``SETTLE``, 50 ms) a wait lasts
at most 5 ms: the commit becomes visible at the next look instead of after the
interval.  That is a few extra reads per commit, never a loop while the ledger is idle.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.storage.kv import KVStore, Watch

DEFAULT_INTERVAL = 1.0
SETTLE = 0.05  # seconds after an event during which waits are short
SETTLE_WAIT = 0.005
WAKE_SLICE = 0.1  # how long a store watch blocks before it looks for a wake()


def _inotify(path: str) -> Any:
    data = os.path.join(path, "data.mdb")
    if not os.path.exists(data):
        return None
    try:
        from inotify_simple import INotify, flags
    except ImportError:  # not Linux, or the package is absent: the interval alone
        return None
    try:
        watcher = INotify(nonblocking=True)
        watcher.add_watch(data, flags.MODIFY | flags.CLOSE_WRITE | flags.ATTRIB)
    except OSError:  # e.g. inotify watches exhausted
        return None
    return watcher


class CommitWaiter:
    """``wait()`` returns soon after a commit to the ledger at ``path`` (or ``wake()``);
    ``store``: the ledger's store, whose ``watch()`` serves a ledger with no file."""

    def __init__(
        self, path: str | None, store: KVStore | None = None, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self.interval = interval
        self._watcher = _inotify(path) if path else None
        self._store_watch: Watch | None = None
        if self._watcher is None and store is not None and _has_own_watch(store):
            self._store_watch = store.watch()
        self._woken = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._lock = threading.Lock()
        self._closed = False
        self._last_event = 0.0

    @property
    def uses_inotify(self) -> bool:
        return self._watcher is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the ledger's file changes, ``wake()`` or the timeout; True if woken
        by a change or wake-up, False on timeout."""
        limit = self.interval if timeout is None else min(timeout, self.interval)
        if self._store_watch is not None:
            return self._wait_on_store(limit)
        if time.monotonic() - self._last_event < SETTLE:
            limit = min(limit, SETTLE_WAIT)
        fds = [self._wake_r] + ([self._watcher.fileno()] if self._watcher is not None else [])
        ready, _, _ = select.select(fds, [], [], max(limit, 0.0))
        for fd in ready:
            _drain(fd)
        if ready:
            self._last_event = time.monotonic()
        return bool(ready)

    def _wait_on_store(self, limit: float) -> bool:
        assert self._store_watch is not None
        deadline = time.monotonic() + max(limit, 0.0)
        while not self._woken.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._store_watch.wait(min(left, WAKE_SLICE)):
                return True
        self._woken.clear()
        return True

    def wake(self) -> None:
        """End a ``wait()`` in another thread now."""
        self._woken.set()
        with self._lock:
            if not self._closed:
                os.write(self._wake_w, b"x")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._wake_r)
            os.close(self._wake_w)
            if self._watcher is not None:
                self._watcher.close()
            if self._store_watch is not None:
                self._store_watch.close()

    def __enter__(self) -> CommitWaiter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _has_own_watch(store: KVStore) -> bool:
    """Whether the store is told of commits (PostgreSQL's LISTEN/NOTIFY) rather than
    polled (the base class's ``watch``, which the file watch above beats for LMDB)."""
    from ledger.storage.kv import KVStore

    return type(store).watch is not KVStore.watch


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
