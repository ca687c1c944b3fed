"""Group commit: concurrent transactions share one LMDB write and one fsync.

Threads that commit while another commit is being written queue up; the next leader
takes the whole queue and, in one LMDB write transaction, checks and appends each
transaction's block in turn (each its own block, each with its own OCC check against
everything before it, batch included).  One transaction's conflict or limit error
fails that transaction alone.  Nobody's commit returns before the write holding its
block is durable.  Processes each group their own threads; LMDB serializes them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ledger.errors import Error
from ledger.journal.commit import apply_plan, plan_commit
from ledger.query.context import BlockAddress
from ledger.storage.kv import WriteTxn

if TYPE_CHECKING:
    from ledger.journal.journal import Journal
    from ledger.journal.transaction import Transaction

MAX_BATCH = 256


@dataclass
class _Request:
    tx: Transaction
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # promoted to write the next batch
    address: BlockAddress | None = None
    error: BaseException | None = None


class GroupCommitter:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._writing = False

    def commit(self, tx: Transaction) -> BlockAddress:
        request = _Request(tx)
        with self._lock:
            self._queue.append(request)
            request.lead = not self._writing
            self._writing = True
        while True:
            if request.lead:
                request.lead = False
                self._write_next_batch()
            request.done.wait()
            if request.lead:  # woken to lead, our own request still queued
                request.done.clear()
                continue
            break
        if request.error is not None:
            raise request.error
        assert request.address is not None
        return request.address

    def _write_next_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._write(batch)
        finally:
            self._hand_over()
            for request in batch:
                request.done.set()

    def _hand_over(self) -> None:
        """Wake the first waiting request to lead the next batch, or stop writing."""
        with self._lock:
            if not self._queue:
                self._writing = False
                return
            successor = self._queue[0]
            successor.lead = True
            successor.done.set()

    def _write(self, batch: list[_Request]) -> None:
        try:
            outcomes = self._journal.store.write(lambda w: _commit_all(self._journal, w, batch))
        except BaseException as exc:  # the write failed: nothing of the batch is on disk
            for request in batch:
                request.error = exc
            return
        for request, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BlockAddress):
                request.address = outcome
            else:
                request.error = outcome


def _commit_all(
    journal: Journal, w: WriteTxn, batch: list[_Request]
) -> list[BlockAddress | BaseException]:
    outcomes: list[BlockAddress | BaseException] = []
    for request in batch:
        try:
            plan = plan_commit(journal, w, request.tx)
        except Error as exc:  # this transaction alone fails; planning wrote nothing
            outcomes.append(exc)
            continue
        apply_plan(journal, w, plan)
        outcomes.append(plan.address)
    return outcomes
