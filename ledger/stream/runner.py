"""A journal stream to Kinesis run in a background thread, with QLDB's stream states.

What QLDB's StreamJournalToKinesis started, for a server to hold: ``StreamRunner``
follows the journal from ``start`` (a time, or a sequenceNo) and delivers to a Kinesis
stream until ``end`` or ``cancel()``, resuming from its checkpoint file when started
again (a server restart).  ``describe()`` gives QLDB's JournalKinesisStreamDescription
fields that belong to the run (Status, ErrorCause); the server adds the request's.

States, as QLDB documented them:

- ACTIVE     streaming (throttling is retried quietly, as QLDB did);
- IMPAIRED   Kinesis refuses: the stream is missing (ErrorCause KINESIS_STREAM_NOT_FOUND)
             or the credentials are refused (IAM_PERMISSION_REVOKED); retried with
             backoff, back to ACTIVE when Kinesis takes records again;
- FAILED     impaired for longer than ``fail_after`` seconds, or any other error;
- COMPLETED  reached its ExclusiveEndTime (the CONTROL COMPLETED record acknowledged);
- CANCELED   ``cancel()`` was called.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ledger.errors import Error
from ledger.journal.journal import Journal
from ledger.stream import deliver
from ledger.stream.kinesis import NOT_FOUND, RETRYABLE, RetryPolicy
from ledger.stream.source import Position
from ledger.stream.wait import CommitWaiter

ACTIVE = "ACTIVE"
COMPLETED = "COMPLETED"
CANCELED = "CANCELED"
FAILED = "FAILED"
IMPAIRED = "IMPAIRED"
STATES = (ACTIVE, COMPLETED, CANCELED, FAILED, IMPAIRED)
TERMINAL = (COMPLETED, CANCELED, FAILED)

KINESIS_STREAM_NOT_FOUND = "KINESIS_STREAM_NOT_FOUND"
IAM_PERMISSION_REVOKED = "IAM_PERMISSION_REVOKED"


@dataclass(frozen=True)
class StreamJob:
    """What to stream where: QLDB's StreamJournalToKinesis request, resolved."""

    stream_id: str
    ledger_name: str
    arn: str  # the QLDB stream's ARN (each record's qldbStreamArn)
    kinesis_stream: str  # the Kinesis stream's name
    start: Position = None
    end: Position = None
    aggregate: bool = True  # QLDB's AggregationEnabled defaults to true


def error_cause(code: str | None) -> str | None:
    """QLDB's ErrorCause for a Kinesis error code (None: not a cause QLDB names)."""
    if code is None or code in RETRYABLE:
        return None
    if code == NOT_FOUND:
        return KINESIS_STREAM_NOT_FOUND
    return IAM_PERMISSION_REVOKED


class StreamRunner:
    """Runs one ``StreamJob`` in a thread; thread-safe ``state``, ``cancel``, ``describe``."""

    def __init__(
        self,
        journal: Journal,
        path: str | None,
        job: StreamJob,
        client_factory: Callable[[], Any],
        checkpoint_path: str,
        *,
        fail_after: float = 3600.0,
        on_change: Callable[[StreamRunner], None] | None = None,
        log: TextIO | None = None,
    ) -> None:
        self.journal = journal
        self.path = path
        self.job = job
        self.client_factory = client_factory
        self.checkpoint_path = checkpoint_path
        self.fail_after = fail_after
        self.on_change = on_change
        self.log = log
        self._lock = threading.Lock()
        self._state = ACTIVE
        self._cause: str | None = None
        self._message: str | None = None
        self._cancel = threading.Event()
        self._waiter: CommitWaiter | None = None
        self._thread: threading.Thread | None = None

    # -- the outside ------------------------------------------------------------------------
    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def start(self) -> StreamRunner:
        self._waiter = CommitWaiter(self.path, self.journal.store)
        self._thread = threading.Thread(
            target=self._run, name=f"ledger-stream-{self.job.stream_id}", daemon=True
        )
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop streaming (state CANCELED unless it already ended)."""
        self._cancel.set()
        if self._waiter is not None:
            self._waiter.wake()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def describe(self) -> dict[str, Any]:
        """Status, and ErrorCause when IMPAIRED or FAILED (QLDB's fields), and a message."""
        with self._lock:
            out: dict[str, Any] = {"Status": self._state}
            if self._cause is not None and self._state in (IMPAIRED, FAILED):
                out["ErrorCause"] = self._cause
            if self._message is not None:
                out["Message"] = self._message
            return out

    # -- the thread ----------------------------------------------------------------------------
    def _set(self, state: str, cause: str | None = None, message: str | None = None) -> None:
        with self._lock:
            if self._state in TERMINAL:
                return
            changed = (state, cause) != (self._state, self._cause)
            self._state, self._cause = state, cause
            if message is not None or state == ACTIVE:
                self._message = message
        if changed and self.on_change is not None:
            self.on_change(self)

    def _status(self, state: str, code: str | None) -> None:
        cause = error_cause(code)
        if state == IMPAIRED and cause is None:
            return  # throttling and transient errors: QLDB stayed ACTIVE while retrying
        self._set(state, cause, None if state == ACTIVE else str(code))

    def _pause(self, seconds: float) -> None:
        self._cancel.wait(seconds)  # a cancel ends a backoff at once

    def _run(self) -> None:
        job = self.job
        spec = deliver.StreamSpec(
            start=job.start, end=job.end, follow=True, stream_id=job.stream_id,
            ledger_name=job.ledger_name, arn=job.arn,
        )
        retry = RetryPolicy(
            cap=5.0, max_attempts=1 << 30, retry_refusals=True, max_seconds=self.fail_after,
            sleep=self._pause,
        )
        try:
            checkpoint, _ = deliver.to_kinesis(
                self.journal, spec, self.client_factory(), job.kinesis_stream,
                aggregate=job.aggregate, checkpoint_path=self.checkpoint_path, path=self.path,
                cancel=self._cancel, waiter=self._waiter, retry=retry, on_status=self._status,
            )
        except Error as exc:
            with self._lock:
                cause = self._cause
            self._set(FAILED, cause, str(exc))
        except Exception as exc:  # a bug: keep it visible, mark the stream
            if self.log is not None:
                traceback.print_exc(file=self.log)
            self._set(FAILED, None, f"{type(exc).__name__}: {exc}")
        else:
            self._set(COMPLETED if checkpoint.completed else CANCELED)
        finally:
            if self._waiter is not None:
                self._waiter.close()
