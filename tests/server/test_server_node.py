"""The Node.js driver (amazon-qldb-driver-nodejs 3.1.0 with SDK v3 clients), unmodified,
against `ledger serve`; skipped with a reason where node or npm is missing."""

from __future__ import annotations

import json
import subprocess

from conftest import CLIENTS, aws


def _node(node_modules, server, scenario: str, ledger_name: str) -> dict:
    env = server.client_env()
    env["NODE_PATH"] = str(node_modules / "node_modules")
    proc = subprocess.run(
        ["node", str(CLIENTS / "node_app.js"), scenario, ledger_name],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + "\n" + server.log()[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_node_driver_inserts_queries_and_reads_the_digest(start_server, client_python, node_modules):
    server = start_server()
    aws(client_python, server, "qldb", "create-ledger", "--name", "shipping", "--permissions-mode", "ALLOW_ALL")
    seen = _node(node_modules, server, "basic", "shipping")
    assert len(seen["ids"]) == 3 and all(len(i) == 22 for i in seen["ids"])
    assert seen["refs"] == ["S0", "S1", "S2"]  # a parameter with quotes hashes alike
    assert seen["caught"] == "BadRequestException"  # caught inside the lambda, still committed
    assert seen["weight"] == 99
    assert seen["tables"] == ["Shipment"]
    assert seen["digestLength"] == 32 and "sequenceNo:" in seen["tip"]
    assert seen["state"] == "ACTIVE" and seen["created"] is True


def test_node_drivers_race_on_one_document(start_server, client_python, node_modules):
    server = start_server()
    aws(client_python, server, "qldb", "create-ledger", "--name", "race", "--permissions-mode", "ALLOW_ALL")
    seen = _node(node_modules, server, "race", "race")
    assert seen == {"attempts": 3, "final": 2}
    assert server.log().count("SendCommand:CommitTransaction race 400 OccConflictException") == 1
