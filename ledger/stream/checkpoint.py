"""The durable checkpoint of a delivery: how far Kinesis has acknowledged the stream.

A JSON file (format ``ledger.stream-checkpoint``, version 1)::

    {"format": "ledger.stream-checkpoint", "formatVersion": 1,
     "strandId": "…", "streamId": "…", "qldbStreamArn": "arn:aws:qldb:…",
     "created": true,            # CONTROL CREATED acknowledged
     "nextSequenceNo": 42,       # every record of every block before 42 acknowledged
     "end": {"sequenceNo": 100} | {"ms": 1767225600000} | null,
     "completed": false}         # CONTROL COMPLETED acknowledged: nothing left to send

It is written only after Kinesis acknowledged what it covers, never ahead, by writing
a temporary file in the same directory, fsync, rename over the old one, fsync of the
directory: a crash leaves the old checkpoint or the new one, never a torn one.  A
restart resends from ``nextSequenceNo``; records of that block Kinesis already took
are sent again (delivery is at-least-once, as QLDB's was).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from ledger.errors import DataError

FORMAT = "ledger.stream-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    strand_id: str
    stream_id: str
    arn: str
    next_seq: int
    end_seq: int | None = None
    end_ms: int | None = None
    created: bool = False
    completed: bool = False

    def to_json(self) -> dict[str, Any]:
        end: dict[str, int] | None = None
        if self.end_seq is not None:
            end = {"sequenceNo": self.end_seq}
        elif self.end_ms is not None:
            end = {"ms": self.end_ms}
        return {
            "format": FORMAT,
            "formatVersion": VERSION,
            "strandId": self.strand_id,
            "streamId": self.stream_id,
            "qldbStreamArn": self.arn,
            "created": self.created,
            "nextSequenceNo": self.next_seq,
            "end": end,
            "completed": self.completed,
        }


def load(path: str) -> Checkpoint | None:
    """The checkpoint at ``path``; None if there is none; DataError if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataError(f"checkpoint {path} is unreadable: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DataError(f"{path} is not a stream checkpoint (format {FORMAT!r})")
    if raw.get("formatVersion", 0) > VERSION:
        raise DataError(
            f"checkpoint {path} has format version {raw.get('formatVersion')}; this version "
            f"of ledger reads {VERSION}: upgrade ledger"
        )
    try:
        end = raw.get("end") or {}
        return Checkpoint(
            strand_id=str(raw["strandId"]),
            stream_id=str(raw["streamId"]),
            arn=str(raw["qldbStreamArn"]),
            next_seq=int(raw["nextSequenceNo"]),
            end_seq=None if "sequenceNo" not in end else int(end["sequenceNo"]),
            end_ms=None if "ms" not in end else int(end["ms"]),
            created=bool(raw["created"]),
            completed=bool(raw["completed"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"checkpoint {path} is malformed: {exc!r}") from None


def save(path: str, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint at ``path`` atomically and durably."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(checkpoint.to_json(), f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
