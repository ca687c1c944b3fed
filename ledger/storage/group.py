"""Group commit: concurrent writers of one process share one store write (one fsync).

Threads that write while another write is in flight queue up; the next leader takes
the whole queue and, in one write transaction, runs each request's ``plan`` then
``apply`` in turn.  A ``plan`` that raises one of the ledger's errors fails that
request alone (a plan writes nothing); anything else fails the whole batch, and then
nothing of it is written.  Nobody's call returns before the write holding its work
is durable.  Processes each group their own threads; the store serializes them.

Nothing here knows what a request writes: the journal passes its commit as a
(plan, apply) pair through ``KVStore.write_grouped``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ledger.errors import Error
from ledger.storage.kv import WriteTxn

P = TypeVar("P")
T = TypeVar("T")

MAX_BATCH = 256


class _Request:
    """One caller's (plan, apply) and, once written, its outcome."""

    __slots__ = ("apply", "done", "error", "lead", "plan", "result")

    def __init__(self, plan: Callable[[WriteTxn], Any], apply: Callable[[WriteTxn, Any], Any]) -> None:
        self.plan = plan
        self.apply = apply
        # set when the request is written (or it is promoted to lead); only a caller that
        # waits needs one: a lone writer (every single-threaded commit) makes none
        self.done: threading.Event | None = None
        self.lead = False  # promoted to write the next batch
        self.result: Any = None
        self.error: BaseException | None = None


class GroupWriter:
    """Batches ``submit`` calls from many threads into writes through ``write``."""

    def __init__(self, write: Callable[[Callable[[WriteTxn], Any]], Any]) -> None:
        self._store_write = write
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._writing = False

    def submit(self, plan: Callable[[WriteTxn], P], apply: Callable[[WriteTxn, P], T]) -> T:
        request = _Request(plan, apply)
        with self._lock:
            self._queue.append(request)
            leading = not self._writing
            if leading:
                self._writing = True
            else:
                request.done = threading.Event()
        if leading:  # nobody was writing, so the queue held only us: we are in the batch
            self._write_next_batch()
        else:
            self._follow(request)
        if request.error is not None:
            raise request.error
        return request.result

    def _follow(self, request: _Request) -> None:
        """Wait until ``request`` is written, leading a batch if promoted to."""
        assert request.done is not None
        while True:
            request.done.wait()
            if not request.lead:
                return
            request.lead = False  # woken to lead, our own request still queued
            request.done.clear()
            self._write_next_batch()  # it holds our request: done is set when it returns

    def _write_next_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._write(batch)
        finally:
            self._hand_over()
            for request in batch:
                if request.done is not None:
                    request.done.set()

    def _hand_over(self) -> None:
        """Wake the first waiting request to lead the next batch, or stop writing."""
        with self._lock:
            if not self._queue:
                self._writing = False
                return
            successor = self._queue[0]  # queued while we wrote: it waits, on its own Event
            assert successor.done is not None
            successor.lead = True
            successor.done.set()

    def _write(self, batch: list[_Request]) -> None:
        try:
            outcomes = self._store_write(lambda w: run_all(w, batch))
        except BaseException as exc:  # the write failed: nothing of the batch is stored
            for request in batch:
                request.error = exc
            return
        for request, (ok, outcome) in zip(batch, outcomes, strict=True):
            if ok:
                request.result = outcome
            else:
                request.error = outcome


def run_all(w: WriteTxn, batch: list[_Request]) -> list[tuple[bool, Any]]:
    """Each request's plan then apply, in order; (False, error) for a refused plan."""
    outcomes: list[tuple[bool, Any]] = []
    for request in batch:
        try:
            planned = request.plan(w)
        except Error as exc:  # this request alone fails; its plan wrote nothing
            outcomes.append((False, exc))
            continue
        outcomes.append((True, request.apply(w, planned)))
    return outcomes
