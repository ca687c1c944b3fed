"""``ledger serve --storage postgresql://…``: the ledgers live in PostgreSQL, so two
servers in front of one database serve the same ledgers, and each ledger is an ordinary
PostgreSQL ledger that ``ledger.connect(url?ledger=…)`` opens (real pyqldb, AWS CLI and
PostgreSQL server, all on loopback)."""

from __future__ import annotations

from conftest import aws, run_client

import ledger
from ledger.server.catalog import PostgresHome


def test_two_servers_share_ledgers_kept_in_postgresql(
    start_server, client_python, pg_server, tmp_path
):
    url = pg_server.url()
    first = start_server("--storage", url, root=tmp_path / "meta1")
    aws(client_python, first, "qldb", "create-ledger", "--name", "Vehicle-Reg",
        "--permissions-mode", "ALLOW_ALL", "--no-deletion-protection")
    seen = run_client(client_python, first, "pyqldb_app.py", "basic", "Vehicle-Reg")
    assert sorted(r["VIN"] for r in seen["rows"]) == ["VIN2", "VIN3", "VIN4"]

    # a second server over the same database (its own ROOT) serves the same ledgers
    second = start_server("--storage", url, root=tmp_path / "meta2")
    aws(client_python, second, "qldb", "create-ledger", "--name", "ops",
        "--permissions-mode", "ALLOW_ALL", "--no-deletion-protection")
    other = run_client(client_python, second, "pyqldb_app.py", "basic", "ops")
    assert len(other["ids"]) == 5
    listed = aws(client_python, first, "qldb", "list-ledgers")["Ledgers"]
    assert sorted(entry["Name"] for entry in listed) == ["Vehicle-Reg", "ops"]
    digest_first = aws(client_python, first, "qldb", "get-digest", "--name", "Vehicle-Reg")
    digest_second = aws(client_python, second, "qldb", "get-digest", "--name", "Vehicle-Reg")
    assert digest_first["Digest"] == digest_second["Digest"]

    # it is an ordinary ledger in that database
    home = PostgresHome(url)
    with ledger.connect(home.location("Vehicle-Reg")) as db:
        years = list(db.execute("SELECT VALUE v.Year FROM Vehicle AS v"))
        assert len(years) == 5 and db.verify().verified
    assert home.ledger_name("Vehicle-Reg") != home.ledger_name("vehicle-reg")

    aws(client_python, first, "qldb", "delete-ledger", "--name", "Vehicle-Reg")
    gone = aws(client_python, first, "qldb", "describe-ledger", "--name", "Vehicle-Reg", check=False)
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr
    assert not home.exists("Vehicle-Reg")


def test_storage_must_be_a_postgresql_url(start_server, tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "serve", str(tmp_path / "r"), "--allow-any-credentials",
         "--storage", "mysql://x"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "postgresql://" in proc.stderr
