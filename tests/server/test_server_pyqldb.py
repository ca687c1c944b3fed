"""pyqldb 3.2.4, unmodified, against `ledger serve` (its own venv, as a subprocess).

Each scenario is a QLDB application in tests/server/clients/pyqldb_app.py; the test
asserts on what the application saw and on the ledger the server wrote.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import CLIENTS, aws, run_client

import ledger


def _ledger(python: Path, server, name: str = "app") -> str:
    aws(python, server, "qldb", "create-ledger", "--name", name, "--permissions-mode", "ALLOW_ALL")
    return name


def test_execute_lambda_inserts_and_queries(start_server, client_python, tmp_path):
    server = start_server()
    name = _ledger(client_python, server)
    seen = run_client(client_python, server, "pyqldb_app.py", "basic", name)
    assert len(seen["ids"]) == 5 and all(len(i) == 22 for i in seen["ids"])
    assert sorted(r["VIN"] for r in seen["rows"]) == ["VIN2", "VIN3", "VIN4"]
    assert seen["rows"][0]["Owner"]["Name"].startswith("n")
    assert seen["one"] == ["n1"]
    assert len(seen["updated"]) == 1 and seen["updated"][0]["documentId"] == seen["ids"][0]
    assert seen["tables"] == ["Vehicle"]
    server.stop()
    with ledger.connect(tmp_path / "root" / name) as db:  # an ordinary ledger directory
        years = sorted(int(y) for y in db.execute("SELECT VALUE v.Year FROM Vehicle AS v"))
        assert years == [1999, 2001, 2002, 2003, 2004]
        assert db.verify().verified
        # the transaction ids the driver saw are the journal's
        blocks = list(db.execute("SELECT VALUE h.metadata.txId FROM history(Vehicle) AS h"))
        assert len(set(blocks)) == 2


def test_paging_with_read_ahead_over_thousands_of_rows(start_server, client_python):
    server = start_server()
    name = _ledger(client_python, server)
    seen = run_client(client_python, server, "pyqldb_app.py", "paging", name, "2500", timeout=300)
    assert seen == {"count": 2500, "distinct": 2500, "sum": sum(range(2500))}
    fetches = server.log().count("SendCommand:FetchPage")
    assert fetches >= 2500 // 200  # pages of at most 200 values


def test_two_drivers_race_on_one_document(start_server, client_python):
    server = start_server()
    name = _ledger(client_python, server)
    seen = run_client(client_python, server, "pyqldb_app.py", "race", name)
    assert seen["final"] == 2
    assert sorted(seen["results"].values()) == [1, 2]
    assert len(seen["attempts"]) == 3  # exactly one OCC retry
    assert server.log().count("SendCommand:CommitTransaction app 400 OccConflictException") == 1


def test_failed_statement_caught_inside_the_lambda_still_commits(start_server, client_python):
    server = start_server()
    name = _ledger(client_python, server)
    seen = run_client(client_python, server, "pyqldb_app.py", "swallowed", name)
    assert seen["result"] == "done"
    assert seen["caught"] == ["BadRequestException", "BadRequestException"]
    assert seen["names"] == ["Zed"]


def test_expired_transaction(start_server, client_python, tmp_path):
    server = start_server("--transaction-timeout", "2")
    name = _ledger(client_python, server)
    seen = run_client(client_python, server, "pyqldb_app.py", "expired", name, "3")
    assert seen["error"]["code"] == "InvalidSessionException"
    assert "has expired" in seen["error"]["message"]
    assert seen["calls"] == 1  # not retried
    assert seen["rows"] == 0  # nothing committed


def test_server_restart_mid_session(start_server, client_python):
    server = start_server()
    name = _ledger(client_python, server)
    proc = subprocess.Popen(
        [str(client_python), str(CLIENTS / "pyqldb_app.py"), "restart", name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server.client_env(),
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "READY"
    server.restart()  # same port, same ROOT: the driver's pooled session is gone
    out, err = proc.communicate("go\n", timeout=120)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1] == '{"steps": [1, 2]}'
    assert "InvalidSessionException" not in err
    restarted = server.log().split("listening on")[-1]
    assert "SendCommand:StartTransaction - 400 InvalidSessionException" in restarted  # old token
