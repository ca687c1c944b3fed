"""Delivery to an Amazon Kinesis Data Stream: PutRecords, at-least-once, in order per key.

**Order.**  Kinesis keeps the order of one shard, but a PutRecords call may fail some of
its records and take the others, so two records with one partition key in one call
could land in the wrong order.  So a call never carries two records (or aggregated
records) that share a partition key, and a record is never sent while an earlier
record with its key is still unacknowledged: per key, a consumer never sees a record
before the ones that precede it (a resent record may repeat, never jump ahead).  The
price: BLOCK_SUMMARY records share one key, so without aggregation a call carries one
block; with ``aggregate`` (QLDB's AggregationEnabled, the KPL format via the
``aws-kinesis-agg`` library) one Kinesis record holds up to 1 MiB of records.

**Retries.**  Throttling (ProvisionedThroughputExceeded, LimitExceeded…), service and
connection errors, and the records a partial PutRecords failure reports, are sent
again with exponential backoff and full jitter; after ``max_attempts`` calls in a row
without progress the delivery stops with a StreamError (the checkpoint lets a restart
resume).  Other errors (no such stream, bad credentials) stop it at once.

**Checkpoint.**  After each call, the checkpoint moves past every block whose records
have all been acknowledged, and only then (ledger/stream/checkpoint.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ledger.errors import StreamError
from ledger.stream import checkpoint as cps
from ledger.stream import encode
from ledger.stream import records as rec

MAX_RECORDS_PER_CALL = 500  # Kinesis PutRecords limits
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024  # data + partition key
AGGREGATE_BYTES = MAX_RECORD_BYTES - 1024
PENDING_UNITS = 1000  # units held before sending (between blocks)

RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "KMSThrottlingException",
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestExpired",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
NOT_FOUND = "ResourceNotFoundException"
REFUSALS = frozenset(
    {
        NOT_FOUND,
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "KMSAccessDeniedException",
    }
)

# on_status(state, cause): "IMPAIRED" while Kinesis refuses, "ACTIVE" when it takes again
StatusHook = Callable[[str, str | None], None]


@dataclass
class RetryPolicy:
    base: float = 0.05
    cap: float = 2.0
    max_attempts: int = 20
    # keep trying a missing stream or refused credentials (QLDB: the stream is IMPAIRED)
    retry_refusals: bool = False
    max_seconds: float | None = None  # also give up after this long without progress
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * (2**attempt)))


@dataclass
class Unit:
    """One Kinesis record to put: a stream record, or an aggregate of several."""

    entry: dict[str, Any]
    keys: frozenset[str]
    counts: dict[int, int]  # block seq -> stream records inside
    size: int


class Tracker:
    """Which blocks are wholly acknowledged: moves the checkpoint forward, in order."""

    def __init__(self, checkpoint: cps.Checkpoint) -> None:
        self.checkpoint = checkpoint
        self._open: OrderedDict[int, int] = OrderedDict()

    def produced(self, seq: int) -> None:
        self._open[seq] = self._open.get(seq, 0) + 1

    def acked(self, counts: dict[int, int]) -> None:
        for seq, n in counts.items():
            self._open[seq] -= n

    def advance(self) -> bool:
        """Drop the leading fully acknowledged blocks; True if the checkpoint moved.

        Call only between blocks: every block in the tracker is then fully produced."""
        moved = False
        cp = self.checkpoint
        while self._open:
            seq, left = next(iter(self._open.items()))
            if left:
                break
            del self._open[seq]
            moved = True
            if seq == rec.CREATED_SEQ:
                cp.created = True
            elif seq == rec.COMPLETED_SEQ:
                cp.completed = True
            else:
                cp.next_seq = seq + 1
        return moved


@dataclass
class Stats:
    records: int = 0
    kinesis_records: int = 0
    calls: int = 0
    retried_records: int = 0
    throttled_calls: int = 0
    bytes: int = 0


class KinesisSink:
    """Puts stream records to ``stream_name`` through a boto3 Kinesis ``client``."""

    def __init__(
        self,
        client: Any,
        stream_name: str,
        checkpoint: cps.Checkpoint,
        *,
        checkpoint_path: str | None = None,
        aggregate: bool = False,
        retry: RetryPolicy | None = None,
        on_status: StatusHook | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.stop = stop
        self.stream_name = stream_name
        self.checkpoint_path = checkpoint_path
        self.aggregate = aggregate
        self.retry = retry or RetryPolicy()
        self.on_status = on_status
        self.tracker = Tracker(checkpoint)
        self.stats = Stats()
        self._pending: list[Unit] = []
        self._pending_bytes = 0
        self._agg: Any = None
        self._agg_keys: set[str] = set()
        self._agg_counts: dict[int, int] = {}
        self._attempt = 0
        self._impaired = False
        self._impaired_since = 0.0
        self._last_cause = ""

    @property
    def checkpoint(self) -> cps.Checkpoint:
        return self.tracker.checkpoint

    # -- feeding -------------------------------------------------------------------------
    def consume(self, records: Iterable[rec.Record | None]) -> None:
        """Deliver every record (``None``: the source caught up, so flush now)."""
        last_seq: int | None = None
        for record in records:
            if record is None:
                self.flush()
                last_seq = None
                continue
            if record.seq != last_seq:  # the previous block is wholly queued
                self._send_while_full()
                last_seq = record.seq
            self._queue(record)
        self.flush()

    def flush(self) -> None:
        """Send everything queued and wait until Kinesis has taken it all."""
        self._close_aggregate()
        while self._pending and not self._stopped():
            self._send_batch()
        self._save()

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _send_while_full(self) -> None:
        while (
            len(self._pending) >= PENDING_UNITS or self._pending_bytes >= MAX_BYTES_PER_CALL
        ) and not self._stopped():
            self._send_batch()

    def _queue(self, record: rec.Record) -> None:
        data = encode.to_bytes(record.value)
        key = record.partition_key
        if len(data) + len(key.encode()) > MAX_RECORD_BYTES:
            raise StreamError(
                f"a {record.record_type} record of block {record.seq} is {len(data)} bytes; "
                f"a Kinesis record holds at most {MAX_RECORD_BYTES}"
            )
        self.tracker.produced(record.seq)
        self.stats.records += 1
        if not self.aggregate:
            entry = {"Data": data, "PartitionKey": key}
            self._add(Unit(entry, frozenset((key,)), {record.seq: 1}, len(data) + len(key)))
            return
        from aws_kinesis_agg.aggregator import AggRecord

        if self._agg is None:
            self._agg = AggRecord(AGGREGATE_BYTES)
        if not self._agg.add_user_record(key, data):
            self._close_aggregate()
            self._agg = AggRecord(AGGREGATE_BYTES)
            self._agg.add_user_record(key, data)
        self._agg_keys.add(key)
        self._agg_counts[record.seq] = self._agg_counts.get(record.seq, 0) + 1

    def _close_aggregate(self) -> None:
        if self._agg is None or self._agg.get_num_user_records() == 0:
            return
        key, hash_key, data = self._agg.get_contents()
        entry = {"Data": data, "PartitionKey": key}
        if hash_key:
            entry["ExplicitHashKey"] = hash_key
        self._add(Unit(entry, frozenset(self._agg_keys), dict(self._agg_counts), len(data) + len(key)))
        self._agg = None
        self._agg_keys = set()
        self._agg_counts = {}

    def _add(self, unit: Unit) -> None:
        self._pending.append(unit)
        self._pending_bytes += unit.size

    # -- sending -------------------------------------------------------------------------
    def _batch(self) -> list[Unit]:
        """Pending units for one call, oldest first, no two sharing a key, and none
        whose key an earlier pending unit left out of the call has."""
        batch: list[Unit] = []
        used: set[str] = set()
        blocked: set[str] = set()
        size = 0
        for unit in self._pending:
            if len(batch) >= MAX_RECORDS_PER_CALL:
                break
            if unit.keys & used or unit.keys & blocked or size + unit.size > MAX_BYTES_PER_CALL:
                blocked |= unit.keys
                continue
            batch.append(unit)
            used |= unit.keys
            size += unit.size
        return batch

    def _send_batch(self) -> None:
        batch = self._batch()
        results = self._put(batch)
        if results is None:
            self._backoff(f"PutRecords refused ({self._last_cause})")
            return
        done = set()
        failed = []
        for unit, result in zip(batch, results, strict=True):
            code = result.get("ErrorCode")
            if code:
                failed.append(str(code))
                continue
            done.add(id(unit))
            self.tracker.acked(unit.counts)
            self.stats.kinesis_records += 1
            self.stats.bytes += unit.size
        self._pending = [u for u in self._pending if id(u) not in done]
        self._pending_bytes = sum(u.size for u in self._pending)
        if self.tracker.advance():
            self._save()
        if failed:
            self.stats.retried_records += len(failed)
            self._last_cause = failed[0]
            self._backoff(f"{len(failed)} of {len(batch)} records failed ({failed[0]})")
        else:
            self._healthy()

    def _put(self, batch: list[Unit]) -> list[dict[str, Any]] | None:
        """The per-record results of one PutRecords call; None if the call was refused
        for a reason worth retrying; StreamError for any other failure."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
            NoCredentialsError,
        )

        self.stats.calls += 1
        try:
            response = self.client.put_records(
                StreamName=self.stream_name, Records=[u.entry for u in batch]
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in RETRYABLE or (code in REFUSALS and self.retry.retry_refusals):
                self.stats.throttled_calls += 1
                self._last_cause = code
                return None
            if code == NOT_FOUND:
                raise StreamError(
                    f"Kinesis stream {self.stream_name!r} does not exist: {exc}"
                ) from None
            raise StreamError(f"Kinesis refused PutRecords to {self.stream_name!r}: {exc}") from None
        except NoCredentialsError:
            raise StreamError(
                "no AWS credentials for Kinesis: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (any values for a local Kinesis) or a profile"
            ) from None
        except (ConnectionError, HTTPClientError) as exc:  # unreachable, closed, timed out
            self._last_cause = f"cannot reach Kinesis: {exc}"
            return None
        except BotoCoreError as exc:
            raise StreamError(f"PutRecords to {self.stream_name!r} failed: {exc}") from None
        results: list[dict[str, Any]] = response["Records"]
        return results

    def _backoff(self, why: str) -> None:
        if self.on_status is not None:
            self.on_status("IMPAIRED", self._last_cause or why)
        now = self.retry.clock()
        if not self._impaired:
            self._impaired_since = now
        self._impaired = True
        limit = self.retry.max_seconds
        if self._attempt + 1 >= self.retry.max_attempts or (
            limit is not None and now - self._impaired_since >= limit
        ):
            self._save()
            raise StreamError(
                f"Kinesis stream {self.stream_name!r}: giving up after {self._attempt + 1} "
                f"attempts without progress: {why}"
            )
        self.retry.sleep(self.retry.delay(self._attempt))
        self._attempt += 1

    def _healthy(self) -> None:
        self._attempt = 0
        if self._impaired:
            self._impaired = False
            if self.on_status is not None:
                self.on_status("ACTIVE", None)

    def _save(self) -> None:
        if self.checkpoint_path is not None:
            cps.save(self.checkpoint_path, self.checkpoint)


def make_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 Kinesis client; botocore's own retries are off (the sink retries)."""
    import os

    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise StreamError(
            "streaming to Kinesis needs boto3 and aws-kinesis-agg: "
            "pip install 'ledgerdb[stream]'"
        ) from None

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client(
        "kinesis", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
    )
