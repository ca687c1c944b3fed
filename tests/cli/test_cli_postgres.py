"""The command line on a PostgreSQL ledger: every command takes a URL where it takes a
path, ``ledger copy`` moves a ledger between backends with identical digests, and the
password never reaches the output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import ledger
from ledger.cli.main import cli

PASSWORD = "pw-not-in-logs"


def _run(*args: object, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    assert PASSWORD not in result.output
    return result.output


@pytest.fixture
def vehicles(tmp_path: Path) -> Path:
    path = tmp_path / "vehicles.ledger"
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("CREATE INDEX ON Vehicle (VIN)")
        for n in range(30):
            db.execute("INSERT INTO Vehicle ?", {"VIN": f"V{n:03}", "Year": 2000 + n})
        db.execute("UPDATE Vehicle AS v SET v.Year = 1999 WHERE v.VIN = 'V003'")
        db.execute("DELETE FROM Vehicle AS v WHERE v.VIN = 'V004'")
    return path


def _digest(location: str | Path) -> dict:
    return json.loads(_run("get-digest", location))


def test_copy_lmdb_to_postgresql_and_back_keeps_the_digest(pg_server, vehicles, tmp_path):
    url = pg_server.url("copied")
    out = json.loads(_run("copy", vehicles, url))
    assert out["Digest"] == _digest(vehicles)["Digest"]
    assert out["Keys"] > 30
    assert _digest(url) == _digest(vehicles)
    _run("verify", url)
    back = tmp_path / "back.ledger"
    assert json.loads(_run("copy", url, back))["Digest"] == out["Digest"]
    assert _digest(back) == _digest(vehicles)
    # the copies are whole ledgers: queries, history and writes work on them
    rows = _run("execute", url, "SELECT VALUE v.Year FROM Vehicle AS v WHERE v.VIN = 'V003'",
                "--format", "json")
    assert json.loads(rows) == [1999]
    with ledger.connect(url) as db:
        db.execute("INSERT INTO Vehicle ?", {"VIN": "NEW"})
        assert db.verify().verified


def test_copy_refuses_a_destination_that_holds_a_ledger(pg_server, vehicles, tmp_path):
    url = pg_server.url("taken")
    with ledger.connect(url) as db:
        db.execute("CREATE TABLE Mine")
    before = _digest(url)
    out = _run("copy", vehicles, url, code=1)
    assert "already holds a ledger" in out
    assert _digest(url) == before  # left alone
    _run("copy", url, vehicles, code=1)  # a non-empty directory too


def test_proof_and_query_commands_take_a_url(pg_server, vehicles):
    url = pg_server.url("cmds")
    _run("copy", vehicles, url)
    tip = _digest(url)["DigestTipAddress"]["IonText"]
    strand = tip.split('"')[1]
    block = json.loads(_run("get-block", url, "--block-address",
                            f'{{strandId:"{strand}",sequenceNo:1}}', "--digest-tip-address", tip))
    assert "Proof" in block
    assert "V001" in _run("history", url, "Vehicle")
    assert "Vehicle" in _run("tables", url)
    assert _run("verify", url)


def test_export_from_postgresql_imports_anywhere(pg_server, vehicles, tmp_path):
    url = pg_server.url("exported")
    _run("copy", vehicles, url)
    _run("export", url, tmp_path / "exp")
    _run("import", tmp_path / "exp", pg_server.url("imported"))
    _run("import", tmp_path / "exp", tmp_path / "imported.ledger")
    assert _digest(pg_server.url("imported")) == _digest(tmp_path / "imported.ledger") == _digest(url)


def test_a_missing_postgresql_ledger_is_an_error_not_a_new_ledger(pg_server):
    out = _run("verify", pg_server.url("absent"), code=1)
    assert "not a ledger" in out


def test_the_shell_opens_a_postgresql_ledger(pg_server):
    url = pg_server.url("shelled")
    out = _run("shell", url, "-c", "CREATE TABLE Car", "-c", "INSERT INTO Car {'vin': 'Z9'}",
               "-c", "SELECT VALUE c.vin FROM Car AS c", "--format", "json")
    assert '"Z9"' in out
    with ledger.connect(url) as db:
        assert db.verify().verified
