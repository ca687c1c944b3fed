"""A bounded load test: 8 concurrent pyqldb clients (processes) insert for a few seconds
over loopback; every acknowledged transaction is in the journal exactly once, nothing
unacknowledged is, and `ledger verify` passes.  LEDGER_SOAK=1 runs it for longer."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys

from conftest import CLIENTS, aws

import ledger

CLIENTS_COUNT = 8
SECONDS = "20" if os.environ.get("LEDGER_SOAK") else "3"


def test_eight_clients_every_acknowledged_transaction_exactly_once(start_server, client_python, tmp_path):
    server = start_server()
    aws(client_python, server, "qldb", "create-ledger", "--name", "load", "--permissions-mode", "ALLOW_ALL")
    with ledger.connect(tmp_path / "root" / "load") as db:  # the server has it open too
        db.execute("CREATE TABLE Load")
    procs = [
        subprocess.Popen(
            [str(client_python), str(CLIENTS / "pyqldb_app.py"), "load", "load", SECONDS, f"w{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=server.client_env(),
        )
        for i in range(CLIENTS_COUNT)
    ]
    acked: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        acked += json.loads(out.strip().splitlines()[-1])["acked"]
    server.stop()
    assert len(acked) >= CLIENTS_COUNT  # every client got through at least once
    with ledger.connect(tmp_path / "root" / "load", readonly=True) as db:
        stored = collections.Counter(str(k) for k in db.execute("SELECT VALUE l.k FROM Load AS l"))
    assert max(stored.values()) == 1
    assert set(stored) == set(acked)
    verify = subprocess.run(
        [sys.executable, "-m", "ledger", "verify", str(tmp_path / "root" / "load")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
