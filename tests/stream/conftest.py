"""Fixtures for the stream tests: a real Kinesis-compatible server (kinesalite).

The set-up installs ``kinesalite`` with npm into ~/.cache/ledger-tests/kinesalite (once;
later runs reuse it) and starts it on 127.0.0.1 on a free port for the test session
(bench/kinesalite.py, shared with the benchmark).  Without node and npm the Kinesis
tests are skipped, saying so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `from bench import kinesalite`, however pytest is started
    sys.path.insert(0, str(REPO))

@pytest.fixture(scope="session")
def kinesalite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a kinesalite server on 127.0.0.1 (in-memory)."""
    from bench import kinesalite as kl

    if not kl.available():
        pytest.skip("node and npm are not installed: no Kinesis-compatible server to test against")
    server = kl.Kinesalite(tmp_path_factory.mktemp("kinesalite"))
    try:
        yield server.url
        if not server.alive():
            raise RuntimeError(f"kinesalite died: {server.log.read_text()[-2000:]}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aws_env() -> Iterator[dict[str, str]]:
    """Credentials and region for the local server (kinesalite accepts any)."""
    values = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield values
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def kinesis(kinesalite: str, aws_env: dict[str, str]) -> Any:
    """A boto3 Kinesis client for the tests' own calls (create, read back), with
    botocore's usual retries (Node closes idle keep-alive connections after 5 s)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 5})
    return boto3.client("kinesis", endpoint_url=kinesalite, region_name="us-east-1", config=config)


_names = iter(range(1_000_000))


@pytest.fixture
def new_stream(kinesis: Any) -> Any:
    """new_stream(shards=1) -> the name of a fresh, ACTIVE Kinesis stream."""

    def make(shards: int = 1) -> str:
        name = f"s{os.getpid()}-{next(_names)}"
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
        )
        return name

    return make
