"""The journal as a stream: QLDB Streams' records, to a pipe or a Kinesis stream.

``Ledger.stream()`` iterates the records; ``ledger stream`` writes them to stdout or
puts them to Kinesis (docs/stream.md).  Nothing below this package imports it: it
reads the journal through ``ledger.journal`` and ``ledger.storage`` only.

- records.py     the record shapes (CONTROL, BLOCK_SUMMARY, REVISION_DETAILS)
- source.py      blocks from a start to an end (or following new commits), as records
- wait.py        waiting for the next commit (inotify on the ledger's file)
- encode.py      Ion binary for Kinesis; ion / json / jsonl for stdout
- kinesis.py     PutRecords delivery: order per key, retries, KPL aggregation
- checkpoint.py  the durable checkpoint of what Kinesis acknowledged
- deliver.py     a stream run to stdout or Kinesis, resumed from a checkpoint
- runner.py      a stream run in a background thread with QLDB's states (for a server)
"""

from __future__ import annotations

from ledger.stream.deliver import StreamSpec, to_kinesis, to_text
from ledger.stream.records import (
    BLOCK_SUMMARY,
    COMPLETED,
    CONTROL,
    CREATED,
    REVISION_DETAILS,
    Record,
    stream_arn,
)
from ledger.stream.source import parse_position

__all__ = [
    "BLOCK_SUMMARY",
    "COMPLETED",
    "CONTROL",
    "CREATED",
    "REVISION_DETAILS",
    "Record",
    "StreamSpec",
    "parse_position",
    "stream_arn",
    "to_kinesis",
    "to_text",
]
