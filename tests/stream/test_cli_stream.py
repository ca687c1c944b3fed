"""``ledger stream``: formats, bounds, --follow in a real process, usage errors, Kinesis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ledger
from ledger import ion
from ledger.cli.main import cli

from . import consumer


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.ledger"
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE T")
        for i in range(3):
            db.execute("INSERT INTO T ?", {"i": i, "amount": ion.loads("1.50")})
    return path


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_ion_output_is_one_record_a_line(small: Path) -> None:
    result = _run("stream", str(small))
    assert result.exit_code == 0, result.output
    values = [ion.loads(line) for line in result.output.splitlines()]
    assert [v["recordType"] for v in values] == ["CONTROL"] + ["BLOCK_SUMMARY"] + [
        "BLOCK_SUMMARY", "REVISION_DETAILS"] * 3
    revision = values[-1]["payload"]["revision"]
    assert consumer.revision_hash(revision) == bytes(revision["hash"])  # Ion text keeps types


def test_jsonl_and_json(small: Path) -> None:
    lines = _run("stream", str(small), "--format", "jsonl", "--start", "1", "--end", "3").output
    values = [json.loads(line) for line in lines.splitlines()]
    assert [v["recordType"] for v in values] == [
        "CONTROL", "BLOCK_SUMMARY", "REVISION_DETAILS", "BLOCK_SUMMARY", "REVISION_DETAILS", "CONTROL"]
    assert values[2]["payload"]["revision"]["data"] == {"i": 0, "amount": 1.5}
    text = _run("stream", str(small), "--format", "json", "--start", "3").output
    decoder, pos, items = json.JSONDecoder(), 0, []
    while pos < len(text.strip()):
        item, pos = decoder.raw_decode(text, pos)
        items.append(item)
        pos = len(text) - len(text[pos:].lstrip())
    assert [v["recordType"] for v in items] == ["CONTROL", "BLOCK_SUMMARY", "REVISION_DETAILS"]


def test_start_by_time(small: Path) -> None:
    with ledger.connect(small, readonly=True) as db:
        (block, _) = db.get_block(2)
    when = ion.dumps_text(block["blockTimestamp"])
    values = [ion.loads(x) for x in _run("stream", str(small), "--start", when).output.splitlines()]
    seqs = [v["payload"]["blockAddress"]["sequenceNo"] for v in values if v["recordType"] == "BLOCK_SUMMARY"]
    assert seqs[0] <= 2 and seqs[-1] == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--start", "soon"], 2, "neither a block sequenceNo nor a timestamp"),
        (["--to", "sqs:q"], 2, "use kinesis:STREAM_NAME"),
        (["--aggregate"], 2, "need --to kinesis:NAME"),
        (["--checkpoint", "c.json"], 2, "need --to kinesis:NAME"),
        (["--format", "csv"], 2, "Invalid value for '--format'"),
    ],
)
def test_usage_errors(small: Path, args: list[str], code: int, message: str) -> None:
    result = _run("stream", str(small), *args)
    assert result.exit_code == code and message in result.output


def test_a_missing_ledger(tmp_path: Path) -> None:
    result = _run("stream", str(tmp_path / "none.ledger"))
    assert result.exit_code == 2 and "no ledger at" in result.output


def test_follow_in_a_process_sees_commits_and_stops_on_ctrl_c(small: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "stream", str(small), "--start", "4", "--follow",
         "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert json.loads(proc.stdout.readline())["recordType"] == "CONTROL"  # type: ignore[union-attr]
        with ledger.connect(small) as db:
            db.execute("INSERT INTO T ?", {"i": "late"})
        summary = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        detail = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        assert summary["payload"]["blockAddress"]["sequenceNo"] == 4
        assert detail["payload"]["revision"]["data"] == {"i": "late"}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def test_to_kinesis_with_aggregation(small: Path, kinesalite: str, kinesis: Any, new_stream: Any,
                                     aws_env: dict[str, str], tmp_path: Path) -> None:
    name = new_stream()
    ckpt = tmp_path / "c.json"
    env = {**os.environ, **aws_env}
    cmd = [sys.executable, "-m", "ledger", "stream", str(small), "--to", f"kinesis:{name}",
           "--endpoint-url", kinesalite, "--aggregate", "--checkpoint", str(ckpt), "--end", "4"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "9 records in 1 Kinesis records" in first.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0 and "already complete" in again.stderr
    parsed = consumer.consume(kinesis, name)
    assert [p["record"]["recordType"] for p in parsed][-1] == "CONTROL"
    assert len(parsed) == 9 and all(p["subSequenceNumber"] is not None for p in parsed)


def test_to_a_missing_kinesis_stream(small: Path, kinesalite: str, aws_env: dict[str, str]) -> None:
    started = time.monotonic()
    result = _run("stream", str(small), "--to", "kinesis:absent", "--endpoint-url", kinesalite)
    assert result.exit_code == 1 and "'absent' does not exist" in result.output
    assert time.monotonic() - started < 30
