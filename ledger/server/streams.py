"""QLDB's journal stream operations in ``ledger serve``: StreamJournalToKinesis,
DescribeJournalKinesisStream, ListJournalKinesisStreamsForLedger and
CancelJournalKinesisStream, each stream run by a ``ledger.stream.runner.StreamRunner``.

A stream's description (QLDB's JournalKinesisStreamDescription) and its checkpoint are
kept under ROOT/.qldb/streams/, so a stream survives a server restart: the server
resumes every stream that was ACTIVE or IMPAIRED from its checkpoint (delivery is
at-least-once, as QLDB's was).  The Kinesis client is boto3's, configured as usual:
credentials and region from the server's environment, and ``AWS_ENDPOINT_URL_KINESIS``
for a Kinesis-compatible endpoint other than AWS's.  ``RoleArn`` is kept and shown,
never assumed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ledger import ion
from ledger.errors import ServiceError
from ledger.server.catalog import META_DIR, Catalog, _write_json
from ledger.server.control import Call, ControlPlane, _epoch, invalid, paged, precondition
from ledger.stream import records as stream_records
from ledger.stream.runner import ACTIVE, CANCELED, IMPAIRED, StreamJob, StreamRunner

STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
KINESIS_ARN = re.compile(r"arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream/([A-Za-z0-9_.-]{1,128})")
RUNNING = (ACTIVE, IMPAIRED)


@dataclass
class StreamRecord:
    """QLDB's JournalKinesisStreamDescription, snake-cased, as stored."""

    stream_id: str
    ledger_name: str
    stream_name: str
    arn: str
    created: float
    start: float
    end: float | None
    role_arn: str
    kinesis_arn: str
    aggregate: bool
    status: str = ACTIVE
    error_cause: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def description(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "LedgerName": self.ledger_name,
            "CreationTime": self.created,
            "InclusiveStartTime": self.start,
            "RoleArn": self.role_arn,
            "StreamId": self.stream_id,
            "Arn": self.arn,
            "Status": self.status,
            "KinesisConfiguration": {
                "StreamArn": self.kinesis_arn,
                "AggregationEnabled": self.aggregate,
            },
            "StreamName": self.stream_name,
        }
        if self.end is not None:
            out["ExclusiveEndTime"] = self.end
        if self.error_cause is not None and self.status in ("IMPAIRED", "FAILED"):
            out["ErrorCause"] = self.error_cause
        return out


def _not_found(stream_id: str, ledger: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"Stream {stream_id!r} of ledger {ledger!r} does not exist",
        404,
        ResourceType="STREAM",
        ResourceName=stream_id,
    )


class KinesisStreams:
    """The four stream operations of a ControlPlane, and the runners behind them."""

    def __init__(
        self,
        control: ControlPlane,
        catalog: Catalog,
        *,
        fail_after: float = 3600.0,
        log: TextIO | None = None,
    ) -> None:
        self.control = control
        self.catalog = catalog
        self.fail_after = fail_after
        self.log = log
        self.dir = Path(catalog.root) / META_DIR / "streams"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._runners: dict[str, StreamRunner] = {}
        self._closing = False
        control.register("StreamJournalToKinesis", self._stream_journal_to_kinesis)
        control.register("DescribeJournalKinesisStream", self._describe)
        control.register("ListJournalKinesisStreamsForLedger", self._list)
        control.register("CancelJournalKinesisStream", self._cancel)

    # -- records ----------------------------------------------------------------------------
    def _path(self, stream_id: str) -> Path:
        return self.dir / f"{stream_id}.json"

    def _load(self, stream_id: str) -> StreamRecord | None:
        if not re.fullmatch(r"[A-Za-z0-9]{22}", stream_id) or not self._path(stream_id).exists():
            return None
        return StreamRecord(**json.loads(self._path(stream_id).read_text(encoding="utf-8")))

    def _records(self) -> list[StreamRecord]:
        found = [
            StreamRecord(**json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(self.dir.glob("*.json"))
            if not p.name.endswith(".checkpoint.json")
        ]
        return sorted(found, key=lambda r: (r.created, r.stream_id))

    def _save(self, record: StreamRecord) -> None:
        with self._lock:
            _write_json(self._path(record.stream_id), asdict(record))

    # -- running ----------------------------------------------------------------------------
    def _start(self, record: StreamRecord) -> None:
        from ledger.stream.kinesis import make_client

        db = self.catalog.open(record.ledger_name)
        match = KINESIS_ARN.fullmatch(record.kinesis_arn)
        assert match is not None  # checked when the stream was created
        end = None if record.end is None else ion.timestamp_of_ms(int(record.end * 1000))
        job = StreamJob(
            stream_id=record.stream_id,
            ledger_name=record.ledger_name,
            arn=record.arn,
            kinesis_stream=match.group(1),
            start=ion.timestamp_of_ms(int(record.start * 1000)),
            end=end,
            aggregate=record.aggregate,
        )
        runner = StreamRunner(
            db.journal,
            db.path,
            job,
            make_client,
            str(self.dir / f"{record.stream_id}.checkpoint.json"),
            fail_after=self.fail_after,
            on_change=self._changed,
            log=self.log,
        )
        with self._lock:
            self._runners[record.stream_id] = runner
        runner.start()

    def _changed(self, runner: StreamRunner) -> None:
        """Persist a runner's new state (not the CANCELED of a server shutting down)."""
        with self._lock:
            if self._closing:
                return
            record = self._load(runner.job.stream_id)
            if record is None:
                return
            described = runner.describe()
            record.status = described["Status"]
            record.error_cause = described.get("ErrorCause")
            self._save(record)

    def resume(self) -> None:
        """Start again every stream that was running when the server stopped."""
        for record in self._records():
            if record.status in RUNNING and record.ledger_name in self.catalog.names():
                self._start(record)

    def close(self) -> None:
        """Stop every runner, keeping their stored states (they resume on restart)."""
        with self._lock:
            self._closing = True
            runners = list(self._runners.values())
        for runner in runners:
            runner.cancel()
        for runner in runners:
            runner.join(10)

    # -- the operations ---------------------------------------------------------------------
    def _stream_journal_to_kinesis(self, call: Call) -> dict[str, Any]:
        ledger = self.control._record(call)
        name = call.member("StreamName", str, required=True)
        if not STREAM_NAME.fullmatch(name):
            raise invalid("StreamName", f"StreamName {name!r} must be 1-32 letters, digits, _ or -")
        role = call.member("RoleArn", str, required=True)
        start = _epoch(call.member("InclusiveStartTime", (int, float), required=True), "InclusiveStartTime")
        if start > call.now + 1:
            raise invalid("InclusiveStartTime", "InclusiveStartTime must not be in the future")
        raw_end = call.member("ExclusiveEndTime", (int, float))
        end = None if raw_end is None else _epoch(raw_end, "ExclusiveEndTime")
        if end is not None and end <= start:
            raise invalid("ExclusiveEndTime", "ExclusiveEndTime must be after InclusiveStartTime")
        config = call.member("KinesisConfiguration", dict, required=True)
        kinesis_arn = config.get("StreamArn")
        if not isinstance(kinesis_arn, str) or not KINESIS_ARN.fullmatch(kinesis_arn):
            raise invalid(
                "StreamArn",
                f"KinesisConfiguration.StreamArn {kinesis_arn!r} is not a Kinesis stream ARN "
                "(arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)",
            )
        aggregate = config.get("AggregationEnabled", True)
        if not isinstance(aggregate, bool):
            raise invalid("AggregationEnabled", "AggregationEnabled must be true or false")
        tags = call.member("Tags", dict) or {}
        stream_id = ion.new_id()
        record = StreamRecord(
            stream_id=stream_id,
            ledger_name=ledger.name,
            stream_name=name,
            arn=stream_records.stream_arn(
                ledger.name, stream_id, self.control.region, self.control.account_id
            ),
            created=call.now,
            start=start,
            end=end,
            role_arn=role,
            kinesis_arn=kinesis_arn,
            aggregate=aggregate,
            tags={str(k): str(v) for k, v in tags.items()},
        )
        self._save(record)
        self._start(record)
        return {"StreamId": stream_id}

    def _owned(self, call: Call) -> StreamRecord:
        ledger = self.control._record(call)
        stream_id = call.params["streamId"]
        record = self._load(stream_id)
        if record is None or record.ledger_name != ledger.name:
            raise _not_found(stream_id, ledger.name)
        return record

    def _describe(self, call: Call) -> dict[str, Any]:
        return {"Stream": self._owned(call).description()}

    def _list(self, call: Call) -> dict[str, Any]:
        ledger = self.control._record(call)
        mine = [r for r in self._records() if r.ledger_name == ledger.name]
        page, token = paged(mine, lambda r: f"{r.created:020.6f}{r.stream_id}", call)
        out: dict[str, Any] = {"Streams": [r.description() for r in page]}
        if token:
            out["NextToken"] = token
        return out

    def _cancel(self, call: Call) -> dict[str, Any]:
        record = self._owned(call)
        with self._lock:
            runner = self._runners.get(record.stream_id)
        if record.status not in RUNNING or runner is None:
            raise precondition(
                record.stream_id,
                f"Stream {record.stream_id!r} is {record.status}: only an ACTIVE or IMPAIRED "
                "stream can be canceled",
                "STREAM",
            )
        runner.cancel()
        runner.join(10)
        record = self._load(record.stream_id) or record
        if record.status in RUNNING:  # it had not noticed yet
            record.status = CANCELED
            self._save(record)
        return {"StreamId": record.stream_id}
