"""The journal read as a stream: blocks from a start, in order, to an end or forever.

``records()`` yields the stream's records (``Record``): CONTROL CREATED, then for each
block its BLOCK_SUMMARY and REVISION_DETAILS, then CONTROL COMPLETED when the stream
reaches its ``end`` (a sequenceNo or a time, exclusive, like QLDB's ExclusiveEndTime).
As in QLDB, a stream without an end never completes: without ``follow`` it stops at
the journal's last block with no COMPLETED (a later run resumes from a checkpoint), and
a cancelled stream writes none either.  With ``follow`` it yields ``None`` whenever it
has caught up and is about to wait for the next commit: a sink flushes then.

Blocks are read a bounded number at a time, each batch in its own short snapshot, so a
slow consumer never holds an LMDB reader open (which would keep old pages alive).
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from amazon.ion.core import IonType

from ledger import ion
from ledger.errors import ProgrammingError
from ledger.journal.history import to_ms
from ledger.journal.journal import Journal
from ledger.storage import layout
from ledger.storage.kv import ReadTxn
from ledger.stream import records as rec
from ledger.stream.wait import CommitWaiter

Position = int | _dt.datetime | None
READ_AHEAD = 64  # blocks read in one snapshot
END_GRACE_MS = 1000  # a commit that took its timestamp before `end` is visible by then


@dataclass(frozen=True)
class Bounds:
    """Where a stream starts (a sequenceNo) and ends (exclusive: a sequenceNo or ms)."""

    start: int
    end_seq: int | None = None
    end_ms: int | None = None

    def stops_before(self, seq: int, block: Any) -> bool:
        """True when ``block`` (number ``seq``) is past the end."""
        if self.end_seq is not None and seq >= self.end_seq:
            return True
        return self.end_ms is not None and _block_ms(block) >= self.end_ms

    def ended(self, next_seq: int) -> bool:
        """True when no block from ``next_seq`` on can be inside the bounds."""
        if self.end_seq is not None and next_seq >= self.end_seq:
            return True
        return self.end_ms is not None and ion.epoch_ms() >= self.end_ms + END_GRACE_MS


def parse_position(text: str) -> int | _dt.datetime:
    """``--start``/``--end`` text: a sequenceNo (digits) or an Ion/ISO 8601 timestamp."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        value = ion.loads(text)
    except Exception:  # any decoding failure is the same usage error
        value = None
    if value is None or ion.ion_type_of(value) is not IonType.TIMESTAMP:
        raise ProgrammingError(
            f"{text!r} is neither a block sequenceNo nor a timestamp "
            "(e.g. 12 or 2026-01-31T09:00:00Z)"
        )
    moment: _dt.datetime = value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)


def bounds(txn: ReadTxn, start: Position, end: Position) -> Bounds:
    """The stream's bounds; a start time becomes the first block at or after it."""
    first = _start_seq(txn, start)
    if isinstance(end, _dt.datetime):
        return Bounds(first, end_ms=to_ms(end))
    if end is not None and end < 0:
        raise ProgrammingError(f"the end sequenceNo must be >= 0, got {end}")
    return Bounds(first, end_seq=end)


def _start_seq(txn: ReadTxn, start: Position) -> int:
    if start is None:
        return 0
    if isinstance(start, _dt.datetime):
        for key, _ in txn.range("times", layout.times_key(to_ms(start), 0)):
            return layout.read_times_key(key)[1]
        return Journal.tip(txn).seq + 1  # nothing yet at or after it: from the next block
    if start < 0:
        raise ProgrammingError(f"the start sequenceNo must be >= 0, got {start}")
    return int(start)


def _block_ms(block: Any) -> int:
    return to_ms(block["blockTimestamp"])


def blocks(
    journal: Journal,
    limits: Bounds,
    *,
    follow: bool = False,
    waiter: CommitWaiter | None = None,
    cancel: threading.Event | None = None,
) -> Generator[tuple[int, Any] | None, None, bool]:
    """``(seq, block)`` in order within ``limits``; ``None`` when caught up (follow only).

    Returns True when the stream reached its end, False when it stopped at the
    journal's last block (not following) or ``cancel`` was set.
    """
    seq = limits.start
    while not _cancelled(cancel):
        batch, done = _read(journal, seq, limits)
        for item in batch:
            yield item
            seq = item[0] + 1
            if _cancelled(cancel):
                return False
        if done or (not batch and limits.ended(seq)):
            return True
        if batch:
            continue
        if not follow:
            return False
        yield None
        if waiter is not None:
            waiter.wait()
    return False


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def _read(journal: Journal, seq: int, limits: Bounds) -> tuple[list[tuple[int, Any]], bool]:
    """Up to READ_AHEAD blocks from ``seq``, and whether the end was reached."""
    txn = journal.store.read()
    try:
        last = journal.tip(txn).seq
        out: list[tuple[int, Any]] = []
        for number in range(seq, min(last, seq + READ_AHEAD - 1) + 1):
            block = journal.load_block(txn, number)
            if limits.stops_before(number, block):
                return out, True
            out.append((number, block))
        return out, False
    finally:
        txn.close()


def records(
    journal: Journal,
    limits: Bounds,
    arn: str,
    *,
    created: bool = True,
    follow: bool = False,
    waiter: CommitWaiter | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[rec.Record | None]:
    """The stream's records (see the module docstring); ``None`` marks "caught up"."""
    strand = journal.strand_id
    if created:
        yield rec.control(arn, strand, rec.CREATED)
    source = blocks(journal, limits, follow=follow, waiter=waiter, cancel=cancel)
    while True:
        try:
            item = next(source)
        except StopIteration as stop:
            if stop.value:
                yield rec.control(arn, strand, rec.COMPLETED)
            return
        if item is None:
            yield None
        else:
            yield from rec.block_records(arn, item[1])
