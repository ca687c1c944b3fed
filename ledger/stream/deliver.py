"""Running a stream to a sink: stdout (a pipe) or Kinesis, resumable from a checkpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from ledger import ion
from ledger.errors import ProgrammingError
from ledger.journal.journal import Journal
from ledger.stream import checkpoint as cps
from ledger.stream import encode, source
from ledger.stream import records as rec
from ledger.stream.kinesis import KinesisSink, RetryPolicy, Stats, StatusHook
from ledger.stream.wait import CommitWaiter


@dataclass(frozen=True)
class StreamSpec:
    """What to stream: bounds, following, and the stream's identity (its ARN)."""

    start: source.Position = None
    end: source.Position = None
    follow: bool = False
    stream_id: str | None = None
    ledger_name: str = "ledger"
    arn: str | None = None  # default: stream_arn(ledger_name, stream_id)

    def stream_arn(self, stream_id: str) -> str:
        return self.arn or rec.stream_arn(self.ledger_name, stream_id)


def records(
    journal: Journal,
    spec: StreamSpec,
    *,
    path: str | None = None,
    cancel: threading.Event | None = None,
    waiter: CommitWaiter | None = None,
) -> Iterator[rec.Record | None]:
    """The records of a fresh stream (no checkpoint); ``None`` marks "caught up"."""
    txn = journal.store.read()
    try:
        limits = source.bounds(txn, spec.start, spec.end)
    finally:
        txn.close()
    arn = spec.stream_arn(spec.stream_id or ion.new_id())
    own = waiter is None and spec.follow
    if own:
        waiter = CommitWaiter(path, journal.store)
    try:
        yield from source.records(
            journal, limits, arn, follow=spec.follow, waiter=waiter, cancel=cancel
        )
    finally:
        if own and waiter is not None:
            waiter.close()


def to_text(
    journal: Journal,
    spec: StreamSpec,
    out: TextIO,
    fmt: str = "ion",
    *,
    path: str | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Write the stream to ``out`` in ``fmt``; flushes whenever it catches up.  Returns
    the number of records written."""
    if fmt not in encode.FORMATS:
        raise ProgrammingError(f"unknown stream format {fmt!r}; choose one of {encode.FORMATS}")
    count = 0
    for record in records(journal, spec, path=path, cancel=cancel):
        if record is None:
            out.flush()
            continue
        out.write(encode.to_text(record.value, fmt))
        count += 1
    out.flush()
    return count


def open_checkpoint(
    journal: Journal, spec: StreamSpec, checkpoint_path: str | None
) -> tuple[cps.Checkpoint, bool]:
    """(the checkpoint to resume from or a new one, whether it was resumed)."""
    saved = cps.load(checkpoint_path) if checkpoint_path else None
    if saved is not None:
        if saved.strand_id != journal.strand_id:
            raise ProgrammingError(
                f"checkpoint {checkpoint_path} belongs to the ledger with strand "
                f"{saved.strand_id}; this ledger's strand is {journal.strand_id}"
            )
        return saved, True
    txn = journal.store.read()
    try:
        limits = source.bounds(txn, spec.start, spec.end)
    finally:
        txn.close()
    stream_id = spec.stream_id or ion.new_id()
    fresh = cps.Checkpoint(
        strand_id=journal.strand_id,
        stream_id=stream_id,
        arn=spec.stream_arn(stream_id),
        next_seq=limits.start,
        end_seq=limits.end_seq,
        end_ms=limits.end_ms,
    )
    if checkpoint_path:
        cps.save(checkpoint_path, fresh)  # fixes the stream's id; covers nothing yet
    return fresh, False


def to_kinesis(
    journal: Journal,
    spec: StreamSpec,
    client: Any,
    stream_name: str,
    *,
    aggregate: bool = False,
    checkpoint_path: str | None = None,
    path: str | None = None,
    cancel: threading.Event | None = None,
    waiter: CommitWaiter | None = None,
    retry: RetryPolicy | None = None,
    on_status: StatusHook | None = None,
) -> tuple[cps.Checkpoint, Stats]:
    """Deliver the stream to a Kinesis stream, resuming from ``checkpoint_path`` if it
    holds one (its position, end and stream id win over ``spec``'s)."""
    checkpoint, _ = open_checkpoint(journal, spec, checkpoint_path)
    sink = KinesisSink(
        client,
        stream_name,
        checkpoint,
        checkpoint_path=checkpoint_path,
        aggregate=aggregate,
        retry=retry,
        on_status=on_status,
        stop=cancel,
    )
    if checkpoint.completed:
        return checkpoint, sink.stats
    limits = source.Bounds(checkpoint.next_seq, checkpoint.end_seq, checkpoint.end_ms)
    own = waiter is None and spec.follow
    if own:
        waiter = CommitWaiter(path, journal.store)
    try:
        stream = source.records(
            journal,
            limits,
            checkpoint.arn,
            created=not checkpoint.created,
            follow=spec.follow,
            waiter=waiter,
            cancel=cancel,
        )
        sink.consume(stream)
    finally:
        if own and waiter is not None:
            waiter.close()
    return checkpoint, sink.stats
