"""Fixtures for `ledger serve` tests: a real server process on 127.0.0.1 (started and
stopped by the test), credentials files, and the real QLDB clients' environments."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import client_envs
import pytest

CLIENTS = Path(__file__).parent / "clients"
KEY_ID = "AKIDLEDGERTEST000001"
SECRET = "ledger-test-secret-key/abcdefghijklmnopqrstu"
OTHER_KEY_ID = "AKIDLEDGERTEST000002"
OTHER_SECRET = "another-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A `ledger serve` child process; ``url`` once it listens."""

    root: Path
    args: list[str]
    log_path: Path
    port: int = 0
    url: str = ""
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self, timeout: float = 30.0) -> ServerProcess:
        if not self.port:
            self.port = free_port()
        log = open(self.log_path, "ab")
        offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ledger", "serve", str(self.root), "--port", str(self.port), *self.args],
            stdout=log,
            stderr=log,
            env={**os.environ, **self.extra_env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode("utf-8", "replace")
            found = re.search(r"listening on (\S+)", text)
            if found:
                self.url = found.group(1)
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"ledger serve exited {self.proc.returncode}:\n{text}")
            time.sleep(0.05)
        raise RuntimeError("ledger serve did not start in time:\n" + self.log())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def client_env(self, key: str = KEY_ID, secret: str = SECRET) -> dict[str, str]:
        """What a migrated app sets: the endpoints, a region, credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL_QLDB_SESSION=self.url,
            AWS_ENDPOINT_URL_QLDB=self.url,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=key,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    path = tmp_path / "credentials"
    path.write_text(
        f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n\n"
        f"[ops]\naws_access_key_id = {OTHER_KEY_ID}\naws_secret_access_key = {OTHER_SECRET}\n"
    )
    return path


@pytest.fixture
def start_server(tmp_path: Path, credentials_file: Path) -> Iterator[Any]:
    """``start_server(*extra_args, root=None)``: a signed-requests server, stopped after."""
    started: list[ServerProcess] = []

    def start(*args: str, root: Path | None = None, auth: bool = True) -> ServerProcess:
        base = ["--credentials", str(credentials_file)] if auth else []
        server = ServerProcess(
            root or tmp_path / "root", [*base, *args], tmp_path / f"serve{len(started)}.log"
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def client_python() -> Path:
    """pyqldb, boto3 and the AWS CLI in their own venv (built on first use; a failure
    to build it fails the tests: Python and PyPI are always there in CI)."""
    return client_envs.python_clients()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    try:
        return client_envs.node_clients()
    except client_envs.Unavailable as exc:
        pytest.skip(f"the Node.js driver tests need node and npm: {exc}")


def run_client(
    python: Path,
    server: ServerProcess,
    script: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = True,
) -> Any:
    """Run tests/server/clients/<script> in the clients' venv; its last stdout line is JSON."""
    proc = subprocess.run(
        [str(python), str(CLIENTS / script), *args],
        capture_output=True,
        text=True,
        env=env or server.client_env(),
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{script} {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nserver log:\n{server.log()[-3000:]}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def aws(python: Path, server: ServerProcess, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Any:
    """The AWS CLI (awscli 1.42.60) against the server; JSON output parsed."""
    proc = subprocess.run(
        [str(python.parent / "aws"), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env or server.client_env(),
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)}: {proc.stderr}\nserver log:\n{server.log()[-2000:]}")
    if not check:
        return proc
    return json.loads(proc.stdout) if proc.stdout.strip() else {}
