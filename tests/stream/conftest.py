"""Fixtures for the stream tests: a real Kinesis-compatible server (kinesalite).

The set-up installs ``kinesalite`` with npm into ~/.cache/ledger-tests/kinesalite (once;
later runs reuse it) and starts it on 127.0.0.1 on a free port for the test session.
Without node and npm the Kinesis tests are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `from tests.stream import consumer`, however pytest is started
    sys.path.insert(0, str(REPO))

KINESALITE_VERSION = "3.3.3"
CACHE = Path(os.environ.get("LEDGER_TEST_CACHE", Path.home() / ".cache" / "ledger-tests"))
LAUNCHER = """
const kinesalite = require(process.argv[2]);
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
server.listen(Number(process.argv[3]), '127.0.0.1', () => console.log('ready'));
"""


def _install() -> Path:
    home = CACHE / "kinesalite"
    module = home / "node_modules" / "kinesalite"
    if not (module / "index.js").exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(home),
             f"kinesalite@{KINESALITE_VERSION}"],
            check=True, capture_output=True, timeout=600,
        )
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kinesalite exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("kinesalite did not start within 30 s")


@pytest.fixture(scope="session")
def kinesalite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a kinesalite server on 127.0.0.1 (in-memory)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: no Kinesis-compatible server to test against")
    module = _install()
    home = tmp_path_factory.mktemp("kinesalite")
    script = home / "launch.js"
    script.write_text(LAUNCHER)
    port = _free_port()
    with open(home / "kinesalite.log", "w") as log:
        proc = subprocess.Popen(["node", str(script), str(module), str(port)], stdout=log, stderr=log)
    try:
        _wait_ready(proc, port, home / "kinesalite.log")
        yield f"http://127.0.0.1:{port}"
        if proc.poll() is not None:
            raise RuntimeError(f"kinesalite died: {(home / 'kinesalite.log').read_text()[-2000:]}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
