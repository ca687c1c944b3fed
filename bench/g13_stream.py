"""G13: the journal as a stream (ledger/stream): records per second to stdout and to a
Kinesis-compatible server, and the lag from commit to record with ``--follow``.

- stdout: ``ledger.stream.to_text`` of the indexed 100,000-revision ledger of
  bench/fixtures.py (2,500 blocks of 40 revisions) in Ion text, to /dev/null; peer: the
  journal export of the same ledger (``ledger export``, Ion text), in revisions/s.
- Kinesis: ``ledger.stream.to_kinesis`` to kinesalite on 127.0.0.1, plain (one block
  per PutRecords call: the price of order per partition key) and KPL-aggregated; peer:
  the same number of pre-encoded records of the same sizes put by boto3 directly, 500
  per call (kinesalite's own ceiling, with no ledger and no ordering).
- lag: a ``ledger stream --follow --format jsonl`` process on a ledger that commits one
  document per transaction at random intervals; from the commit's return to the
  record's line on the pipe (p50, p99).

``--quick``: 10,000 revisions and 50 commits instead of 100,000 and 300.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import ledger
from bench.fixtures import fresh, log, vehicles, workdir
from bench.stats import Measure, Row


def run(quick: bool = False) -> list[Row]:
    n, repeat, commits = (10_000, 2, 50) if quick else (100_000, 3, 300)
    fx = vehicles(n)
    rows = [_stdout(fx.ledger_path, n, repeat)]
    rows.extend(_kinesis(fx.ledger_path, n))
    rows.append(_lag(commits))
    return rows


# -- stdout -------------------------------------------------------------------------------
def _stdout(path: Any, n: int, repeat: int) -> Row:
    from ledger.proof import export
    from ledger.stream import StreamSpec, to_text

    title = f"stream a {n:,}-revision ledger to stdout (Ion text)"
    ours, peer, records = [], [], 0
    with ledger.connect(path, readonly=True) as db, open(os.devnull, "w") as sink:
        end = db.digest().tip.sequence_no + 1
        for _ in range(repeat):
            start = time.perf_counter()
            records = to_text(db.journal, StreamSpec(end=end), sink, "ion")
            ours.append(records / (time.perf_counter() - start))
            out = fresh("export-")
            start = time.perf_counter()
            export.export(db.journal, out, fmt="ion_text")
            peer.append(n / (time.perf_counter() - start))
    o, p = Measure(ours), Measure(peer)
    # one record per revision plus a summary per block: compare revisions with revisions
    per_revision = o.median * n / records
    return Row(
        "G13", title, f"{o.median:,.0f} records/s ±{o.spread:.0%}",
        f"{p.median:,.0f} revisions/s ±{p.spread:.0%} (ledger export)",
        per_revision / p.median, "—", None,
        note=f"stdout: {records:,} records ({n:,} REVISION_DETAILS); {per_revision:,.0f} revisions/s",
    )


# -- Kinesis ------------------------------------------------------------------------------
def _kinesis(path: Any, n: int) -> list[Row]:
    from bench import kinesalite as kl

    title = f"stream a {n:,}-revision ledger to Kinesis (kinesalite)"
    if not kl.available():
        return [Row("G13", title, "not measured", "—", None, "—", None,
                    note="not measured: node and npm are not installed (kinesalite)")]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = kl.Kinesalite(workdir() / "kinesalite")
    try:
        return [_to_kinesis(server.url, path, n, aggregate) for aggregate in (False, True)]
    finally:
        server.stop()


def _stream(client: Any, shards: int = 1) -> str:
    name = f"bench-{time.monotonic_ns()}"
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    return name


def _to_kinesis(url: str, path: Any, n: int, aggregate: bool) -> Row:
    from ledger.stream import StreamSpec, deliver, encode, to_kinesis
    from ledger.stream.kinesis import make_client

    client = make_client(url)
    kind = "KPL-aggregated" if aggregate else "one block per call"
    with ledger.connect(path, readonly=True) as db:
        end = db.digest().tip.sequence_no + 1
        name = _stream(client)
        start = time.perf_counter()
        _, stats = to_kinesis(db.journal, StreamSpec(end=end), client, name, aggregate=aggregate)
        seconds = time.perf_counter() - start
        ours = stats.records / seconds
        sizes = [len(encode.to_bytes(r.value)) for r in deliver.records(db.journal, StreamSpec(end=end))
                 if r is not None]
    peer = _raw_puts(client, sizes)
    log(f"G13: {stats.records:,} records in {stats.kinesis_records:,} Kinesis records, "
        f"{stats.calls:,} calls, {seconds:.1f} s ({kind}); raw boto3 {peer:,.0f} records/s")
    return Row(
        "G13", f"stream a {n:,}-revision ledger to Kinesis, {kind}",
        f"{ours:,.0f} records/s", f"{peer:,.0f} records/s (boto3 PutRecords, 500 a call, no ledger)",
        ours / peer, "—", None,
        note=(f"Kinesis {kind}: {stats.records:,} records in {stats.kinesis_records:,} Kinesis "
              f"records and {stats.calls:,} PutRecords calls, {seconds:.1f} s"),
    )


def _raw_puts(client: Any, sizes: list[int]) -> float:
    """Records/s of boto3 putting pre-made records of ``sizes`` bytes, 500 per call."""
    name = _stream(client)
    rnd = random.Random(1)
    entries = [{"Data": rnd.randbytes(size), "PartitionKey": f"k{i % 997}"} for i, size in enumerate(sizes)]
    start = time.perf_counter()
    for i in range(0, len(entries), 500):
        client.put_records(StreamName=name, Records=entries[i : i + 500])
    return len(entries) / (time.perf_counter() - start)


# -- lag with --follow -------------------------------------------------------------------
def _lag(commits: int) -> Row:
    title = "commit-to-record lag, `ledger stream --follow` (p50 / p99)"
    path = fresh("follow-")
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Lag")
        start_seq = db.digest().tip.sequence_no + 1
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledger", "stream", str(path), "--follow", "--format", "jsonl",
             "--start", str(start_seq)],
            stdout=subprocess.PIPE, text=True,
        )
        assert proc.stdout is not None
        lags: list[float] = []
        try:
            json.loads(proc.stdout.readline())  # CONTROL CREATED: the follower is up
            rnd = random.Random(3)
            for i in range(commits):
                time.sleep(rnd.uniform(0.0, 0.02))
                (row,) = db.execute("INSERT INTO Lag ?", {"i": i})
                committed = time.perf_counter()
                want = str(row["documentId"])
                while True:
                    record = json.loads(proc.stdout.readline())
                    if record["recordType"] == "REVISION_DETAILS":
                        break
                assert record["payload"]["revision"]["metadata"]["id"] == want
                lags.append(time.perf_counter() - committed)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    lags.sort()
    p50 = statistics.median(lags)
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    return Row(
        "G13", title, f"{p50 * 1000:.1f} ms / {p99 * 1000:.1f} ms", "—", None, "—", None,
        note=(f"lag: {commits} commits, one document each, 0-20 ms apart; the follower waits on "
              f"inotify of data.mdb (max {max(lags) * 1000:.1f} ms)"),
    )


if __name__ == "__main__":  # python -m bench.g13_stream [--quick]
    for row in run(quick="--quick" in sys.argv):
        print(row)
