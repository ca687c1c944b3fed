"""G10: transactions per second through `ledger serve`, 8 concurrent pyqldb clients (each
an execute_lambda with one INSERT: StartTransaction, ExecuteStatement, CommitTransaction),
against the embedded rate with 8 threads (as G2 measures it) in the same run; with the
clients' p99 latency.

The clients are pyqldb 3.2.4 processes from the cached venv the server tests build
(tests/server/client_envs.py), talking to a `ledger serve --allow-any-credentials` on
127.0.0.1; they share the machine's cores with the server, as they would on one host.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ledger
from bench.docs import documents
from bench.g2_concurrent import WRITERS, _ledger_run
from bench.stats import Measure, Row, rate

TESTS = Path(__file__).resolve().parent.parent / "tests" / "server"
CLIENT = TESTS / "clients" / "pyqldb_app.py"


def _client_python() -> Path:
    spec = importlib.util.spec_from_file_location("client_envs", TESTS / "client_envs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path: Path = module.python_clients()
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(root: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", str(root), "--port", str(port), "--allow-any-credentials"],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"listening on (\S+)", log.read_text("utf-8", "replace"))
        if found:
            return proc, found.group(1)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("ledger serve did not start:\n" + log.read_text())


def _client_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_QLDB_SESSION=url,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="AKIDBENCH",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_run(
    python: Path, tmp: Path, run: int, seconds: float
) -> tuple[float, list[float], float, float]:
    """(transactions/s, every transaction's latency in seconds, CPU seconds of the
    clients and of the server per transaction) for one run."""
    root = tmp / f"root{run}"
    root.mkdir()
    with ledger.connect(root / "bench") as db:
        db.execute("CREATE TABLE Load")
    proc, url = _start(root, tmp / f"serve{run}.log")
    try:
        clients = [
            subprocess.Popen(
                [str(python), str(CLIENT), "load", "bench", str(seconds), f"w{k}", "wait"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_client_env(url),
            )
            for k in range(WRITERS)
        ]
        for client in clients:  # every client warmed up (imports, session) before the clock
            assert client.stdout is not None
            if client.stdout.readline().strip() != "READY":
                raise RuntimeError("client failed:\n" + client.communicate()[1][-2000:])
        server_cpu = _cpu_seconds(proc.pid)
        for client in clients:
            assert client.stdin is not None
            client.stdin.write("go\n")
            client.stdin.flush()
        results: list[dict[str, Any]] = []
        for client in clients:
            out, err = client.communicate(timeout=seconds * 10 + 120)
            if client.returncode != 0:
                raise RuntimeError(f"client failed:\n{err[-2000:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        server_cpu = _cpu_seconds(proc.pid) - server_cpu
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    latencies = [x for r in results for x in r["latencies"]]
    # each client ran `seconds` after its own start: sum the per-client rates
    total = sum(len(r["latencies"]) / sum(r["latencies"]) for r in results if r["latencies"])
    count = max(len(latencies), 1)
    return total, latencies, sum(r["cpu"] for r in results) / count, server_cpu / count


def run(quick: bool = False) -> Row:
    seconds, repeat = (3.0, 2) if quick else (8.0, 3)
    python = _client_python()
    docs = documents(400 if quick else 2000)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        runs = iter(range(10**6))
        embedded = rate(lambda: _ledger_run(tmp / f"l{next(runs)}", docs), repeat)
        rates, latencies, client_cpu, server_cpu = [], [], [], []
        for k in range(repeat):
            tps, lat, c_cpu, s_cpu = _server_run(python, tmp, k, seconds)
            rates.append(tps)
            latencies += lat
            client_cpu.append(c_cpu)
            server_cpu.append(s_cpu)
    served = Measure(rates)
    ratio = served.median / embedded.median
    lat_sorted = sorted(latencies)
    p50 = statistics.median(lat_sorted) * 1000
    p99 = lat_sorted[int(len(lat_sorted) * 0.99) - 1] * 1000
    return Row(
        "G10",
        f"transactions/s through `ledger serve`, {WRITERS} pyqldb clients, one INSERT per execute_lambda",
        f"{served.median:,.0f}/s ±{served.spread:.0%}, p99 {p99:.1f} ms",
        f"{embedded.median:,.0f}/s ±{embedded.spread:.0%} (embedded, {WRITERS} threads)",
        ratio,
        "≥ 0.5× embedded",
        ratio >= 0.5,
        note=(
            f"latency per execute_lambda p50 {p50:.1f} ms, p99 {p99:.1f} ms over "
            f"{len(latencies):,} transactions ({repeat} runs of {seconds:.0f} s). CPU per "
            f"transaction: clients {statistics.median(client_cpu) * 1000:.1f} ms (pyqldb, "
            f"botocore: signing, JSON, HTTP), server {statistics.median(server_cpu) * 1000:.1f} ms; "
            f"clients and server share this machine's {os.cpu_count()} cores"
        ),
    )
