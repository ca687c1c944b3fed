"""Crash safety of Kinesis delivery: ``ledger stream --to kinesis:… --checkpoint`` killed
with SIGKILL at random moments and restarted delivers every record at least once, none
before its predecessors of the same partition key, and its checkpoint never claims a
block Kinesis has not acknowledged.

Each round streams a fresh ledger-to-Kinesis run (a new stream, a new checkpoint) and
kills the streamer (a subprocess, as a user runs it) at random points until a run
finishes.  ``make test``: 4 rounds of 80 blocks (about 30 s); ``LEDGER_SOAK=1``: 25 rounds
of 150 blocks.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.stream import checkpoint, deliver

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.stream import conftest as kinesis_fixtures  # noqa: E402
from tests.stream import consumer  # noqa: E402

# the Kinesis fixtures of tests/stream (kinesalite started on 127.0.0.1 by the test set-up)
kinesalite = kinesis_fixtures.kinesalite
aws_env = kinesis_fixtures.aws_env
kinesis = kinesis_fixtures.kinesis
new_stream = kinesis_fixtures.new_stream

SOAK = os.environ.get("LEDGER_SOAK") == "1"
ROUNDS = 25 if SOAK else 4
BLOCKS = 150 if SOAK else 80


@pytest.fixture(scope="module")
def journal_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "crash.ledger"
    rnd = random.Random(5)
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Doc")
        ids: list[str] = []
        for i in range(BLOCKS):
            with db.transaction() as tx:
                for _ in range(rnd.randint(1, 4)):
                    (row,) = tx.execute("INSERT INTO Doc ?", {"i": i, "pad": "p" * rnd.randint(0, 200)})
                    ids.append(str(row["documentId"]))
                if rnd.random() < 0.5:  # revisions of earlier documents: keys that repeat
                    tx.execute("UPDATE Doc AS d BY id SET d.u = ? WHERE id = ?", i, rnd.choice(ids[:-4] or ids))
    return path


def _expected(path: Path) -> tuple[list[Any], int]:
    with ledger.connect(path, readonly=True) as db:
        end = db.digest().tip.sequence_no + 1
        return [r for r in deliver.records(db.journal, deliver.StreamSpec(end=end)) if r is not None], end


def _delivered(kinesis: Any, name: str) -> list[dict[str, Any]]:
    return consumer.consume(kinesis, name)


def _check_not_ahead(ckpt: str, parsed: list[dict[str, Any]], expected: list[Any]) -> None:
    """Every record the checkpoint claims is in Kinesis."""
    saved = checkpoint.load(ckpt)
    if saved is None:
        return
    got = {(p["partitionKey"], consumer._position(p["record"], None)) for p in parsed}
    claimed = [
        r for r in expected
        if (r.seq == -1 and saved.created) or (0 <= r.seq < saved.next_seq)
        or (r.seq == 1 << 62 and saved.completed)
    ]
    missing = [r for r in claimed if (r.partition_key, consumer._position(r.value, r.seq)) not in got]
    assert not missing, (
        f"checkpoint at block {saved.next_seq} is ahead of Kinesis: {len(missing)} records missing, "
        f"first of block {missing[0].seq}"
    )


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_streamer_killed_at_random_points(
    round_no: int, journal_path: Path, kinesalite: str, kinesis: Any, new_stream: Any,
    aws_env: dict[str, str], tmp_path: Path,
) -> None:
    rnd = random.Random(1000 + round_no)
    expected, end = _expected(journal_path)
    name = new_stream(rnd.choice([1, 2]))
    ckpt = str(tmp_path / "checkpoint.json")
    cmd = [sys.executable, "-m", "ledger", "stream", str(journal_path), "--to", f"kinesis:{name}",
           "--endpoint-url", kinesalite, "--checkpoint", ckpt, "--end", str(end)]
    env = {**os.environ, **aws_env}
    kills = 0
    for _run in range(20):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if kills < 3 and (kills == 0 or rnd.random() < 0.6):
            try:
                out, err = proc.communicate(timeout=rnd.uniform(0.3, 3.0))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                kills += 1
                _check_not_ahead(ckpt, _delivered(kinesis, name), expected)
                continue
        else:
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        break
    else:
        pytest.fail("the streamer never finished")
    saved = checkpoint.load(ckpt)
    assert saved is not None and saved.completed and saved.next_seq == end
    parsed = _delivered(kinesis, name)
    checked = consumer.check_delivery(parsed, expected)  # all at least once, in order per key
    assert checked.blocks == list(range(end))
    assert len(parsed) >= len(expected)
