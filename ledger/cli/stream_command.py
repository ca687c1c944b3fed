"""``ledger stream``: the journal as QLDB Streams' records, to stdout or a Kinesis stream.

The stream package (and boto3, only for ``--to kinesis:…``) is imported when the
command runs, so other commands start no slower.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ledger.cli.errors import reported
from ledger.cli.options import ledger_argument, ledger_name, open_ledger

KINESIS = "kinesis:"


def _position(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from ledger.errors import ProgrammingError
    from ledger.stream import parse_position

    try:
        return parse_position(value)
    except ProgrammingError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("stream")
@ledger_argument()
@click.option("--start", callback=_position, metavar="SEQ|TIME",
              help="First block: a sequenceNo, or a time (the first block at or after it). "
              "Default: block 0.")
@click.option("--end", callback=_position, metavar="SEQ|TIME",
              help="Stop before this block sequenceNo, or before the first block at or after "
              "this time (exclusive, like QLDB's ExclusiveEndTime); then write CONTROL COMPLETED.")
@click.option("--follow", "-f", is_flag=True,
              help="After the last block, wait for new commits (until --end or Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["ion", "json", "jsonl"]), default="ion",
              show_default=True,
              help="stdout format: ion (Ion text, one record a line), jsonl, or json (indented).")
@click.option("--to", "target", metavar="kinesis:STREAM_NAME",
              help="Put the records to this Kinesis data stream instead of stdout.")
@click.option("--endpoint-url", metavar="URL", help="Kinesis endpoint (e.g. a local one).")
@click.option("--region", metavar="REGION", help="AWS region (default: AWS_REGION or us-east-1).")
@click.option("--aggregate", is_flag=True,
              help="KPL-aggregate records into Kinesis records (QLDB's AggregationEnabled).")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Resume from and record progress in FILE (only what Kinesis acknowledged).")
@click.option("--stream-id", metavar="ID", help="The id in the records' qldbStreamArn "
              "(default: a new one; a checkpoint keeps its own).")
def stream(
    path: str,
    start: Any,
    end: Any,
    follow: bool,
    fmt: str,
    target: str | None,
    endpoint_url: str | None,
    region: str | None,
    aggregate: bool,
    checkpoint_path: str | None,
    stream_id: str | None,
) -> None:
    """Write the journal of the ledger at PATH as QLDB Streams records.

    Records: CONTROL CREATED, then per block a BLOCK_SUMMARY and a REVISION_DETAILS
    per revision, then CONTROL COMPLETED when --end is reached (without --end the
    stream stops at the last block, or with --follow waits for more). To stdout by default; with --to kinesis:NAME, to a Kinesis data stream
    (PutRecords, Ion binary, at-least-once, in order per partition key), resumable
    with --checkpoint.

    \b
    Examples:
      ledger stream v.ledger --format jsonl
      ledger stream v.ledger --start 2026-01-31T00:00:00Z --follow
      ledger stream v.ledger --to kinesis:changes --checkpoint v.ckpt --aggregate --follow
      ledger stream v.ledger --to kinesis:changes --endpoint-url http://127.0.0.1:4567
    """
    from ledger.stream import StreamSpec

    if target is not None and not target.startswith(KINESIS):
        raise click.BadParameter("use kinesis:STREAM_NAME", param_hint="--to")
    if target is None and (aggregate or checkpoint_path or endpoint_url):
        raise click.UsageError("--aggregate, --checkpoint and --endpoint-url need --to kinesis:NAME")
    spec = StreamSpec(start, end, follow, stream_id, ledger_name(path))
    try:
        with open_ledger(path, create=False) as db, reported():
            if target is None:
                _to_stdout(db, spec, fmt)
            else:
                _to_kinesis(db, spec, target[len(KINESIS):], endpoint_url, region,
                            aggregate, checkpoint_path)
    except KeyboardInterrupt:
        sys.exit(130)


def _to_stdout(db: Any, spec: Any, fmt: str) -> None:
    from ledger.stream import to_text

    try:
        to_text(db.journal, spec, sys.stdout, fmt, path=db.path)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _to_kinesis(db: Any, spec: Any, name: str, endpoint_url: str | None, region: str | None,
                aggregate: bool, checkpoint_path: str | None) -> None:
    from ledger.stream import checkpoint, to_kinesis
    from ledger.stream.kinesis import make_client

    if not name:
        raise click.BadParameter("the Kinesis stream name is missing", param_hint="--to")
    if checkpoint_path and (spec.start is not None or spec.end is not None):
        saved = checkpoint.load(checkpoint_path)
        if saved is not None:
            click.echo(f"resuming from {checkpoint_path} (block {saved.next_seq}); "
                       "its start and end win over --start/--end", err=True)
    client = make_client(endpoint_url, region)
    done, stats = to_kinesis(db.journal, spec, client, name, aggregate=aggregate,
                             checkpoint_path=checkpoint_path, path=db.path)
    if done.completed and stats.records == 0:
        click.echo(f"the stream in {checkpoint_path} is already complete", err=True)
        return
    click.echo(f"{stats.records} records in {stats.kinesis_records} Kinesis records, "
               f"{stats.calls} PutRecords calls ({stats.retried_records} records retried)",
               err=True)


def register(group: click.Group) -> None:
    group.add_command(stream)

