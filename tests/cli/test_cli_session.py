"""Sessions: auto-commit, BEGIN/COMMIT/ABORT, OCC conflicts, confirmation, scripts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.cli.printer import Printer
from ledger.cli.session import Session, Settings


@pytest.fixture
def db(sample: Any) -> Any:
    conn = ledger.connect(sample.path)
    yield conn
    conn.close()


def make_session(db: Any, **settings: Any) -> tuple[Session, list[str]]:
    """A session in jsonl whose writes are counted in the returned list."""
    writes: list[str] = []
    session = Session(
        db,
        Settings(format="jsonl", **settings),
        Printer(interactive=True),
        on_write=lambda: writes.append("refresh"),
    )
    return session, writes


def people(db: Any) -> list[str]:
    return sorted(str(v) for v in db.execute("SELECT VALUE p.GovId FROM Person AS p"))


def test_auto_commit_writes_at_once_and_asks_for_a_refresh(db: Any, capsys: Any) -> None:
    session, writes = make_session(db)
    assert session.run("INSERT INTO Person VALUE {'GovId': 'A'}; SELECT VALUE COUNT(*) FROM Person")
    assert people(db) == ["A", "LEWISR261LL"]
    assert writes == ["refresh"]
    assert capsys.readouterr().out.endswith("2\n")


def test_transaction_commit(db: Any, capsys: Any) -> None:
    session, writes = make_session(db)
    session.run("BEGIN")
    assert session.in_transaction
    session.run("INSERT INTO Person VALUE {'GovId': 'A'}")
    session.run("INSERT INTO Person VALUE {'GovId': 'B'}")
    assert people(db) == ["LEWISR261LL"]  # not visible outside yet
    session.run("SELECT VALUE COUNT(*) FROM Person")  # but visible inside
    assert writes == []
    session.run("COMMIT")
    assert not session.in_transaction
    assert people(db) == ["A", "B", "LEWISR261LL"]
    assert writes == ["refresh"]  # once, at commit
    out = capsys.readouterr().out
    assert out.startswith("Transaction started. COMMIT to write its changes, ABORT to drop them.\n")
    assert "3\n" in out and out.endswith("Transaction committed.\n")


def test_transaction_abort(db: Any, capsys: Any) -> None:
    session, writes = make_session(db)
    session.run("start transaction; DELETE FROM Person WHERE GovId = 'LEWISR261LL'; ABORT")
    assert people(db) == ["LEWISR261LL"]
    assert writes == []
    assert capsys.readouterr().out.endswith("Transaction aborted: nothing was written.\n")


def test_a_failing_statement_leaves_the_transaction_open(db: Any, capsys: Any) -> None:
    session, _ = make_session(db)
    session.run("BEGIN; INSERT INTO Person VALUE {'GovId': 'A'}")
    assert not session.run("SELECT * FROM Nope")
    assert session.in_transaction
    assert "The transaction is still open: go on, COMMIT, or ABORT." in capsys.readouterr().out
    session.run("COMMIT")
    assert people(db) == ["A", "LEWISR261LL"]


def test_occ_conflict_is_explained(db: Any, capsys: Any) -> None:
    session, _ = make_session(db)
    session.run("BEGIN; SELECT * FROM Person; INSERT INTO Person VALUE {'GovId': 'mine'}")
    db.execute("INSERT INTO Person VALUE {'GovId': 'theirs'}")  # commits first
    assert not session.run("COMMIT")
    assert not session.in_transaction
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "Traceback" not in err
    assert err.endswith(
        "Another transaction committed a change to something this transaction read, after it "
        "began (an optimistic concurrency conflict). Nothing was written and the transaction "
        "is over: run it again.\n"
    )
    assert people(db) == ["LEWISR261LL", "theirs"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BEGIN; BEGIN", "Error: a transaction is already open: COMMIT or ABORT it first\n"),
        (
            "COMMIT",
            "Error: no transaction is open (each statement commits on its own; BEGIN starts a transaction)\n",
        ),
        (
            "ABORT",
            "Error: no transaction is open (each statement commits on its own; BEGIN starts a transaction)\n",
        ),
    ],
)
def test_transaction_misuse(db: Any, capsys: Any, text: str, message: str) -> None:
    session, _ = make_session(db)
    assert not session.run(text)
    assert capsys.readouterr().err == message


def test_end_aborts_an_open_transaction(db: Any) -> None:
    session, _ = make_session(db)
    session.run("BEGIN; DELETE FROM Person WHERE GovId = 'LEWISR261LL'")
    assert session.end() is True
    assert session.end() is False
    assert people(db) == ["LEWISR261LL"]


def test_whole_table_writes_ask_first(db: Any, capsys: Any) -> None:
    asked: list[str] = []

    def decline(message: str) -> bool:
        asked.append(message)
        return False

    session, _ = make_session(db)
    session.confirm = decline
    session.run("DELETE FROM Person")
    assert asked == ["DELETE without WHERE changes every document in Person. Run it?"]
    assert people(db) == ["LEWISR261LL"]
    assert capsys.readouterr().out == "Cancelled: nothing was run.\n"
    session.confirm = lambda message: True
    session.run("UPDATE Person AS p SET p.Checked = true")
    assert [bool(v) for v in db.execute("SELECT VALUE p.Checked FROM Person AS p")] == [True]


def test_yes_skips_the_question(db: Any) -> None:
    session, _ = make_session(db, yes=True)
    session.confirm = lambda message: pytest.fail("asked")
    assert session.run("DELETE FROM Person")
    assert people(db) == []


# -- scripts ----------------------------------------------------------------------------------
def test_stdin_script_data_on_stdout_only(sample: Any, run: Any) -> None:
    script = (
        "BEGIN;\n"
        "INSERT INTO Person VALUE {'GovId': 'A', 'Name': 'Ann'};\n"
        "COMMIT;\n"
        "SELECT VALUE p.Name\n  FROM Person AS p\n  WHERE p.GovId = 'A'\n"
    )
    result = run("shell", sample.path, "--format", "jsonl", input=script)
    assert result.exit_code == 0
    assert re.fullmatch(r'\{"documentId": "\w{22}"\}\n"Ann"\n', result.stdout)
    assert result.stderr == (
        "Transaction started. COMMIT to write its changes, ABORT to drop them.\nTransaction committed.\n"
    )


def test_script_stops_at_the_first_error(sample: Any, run: Any) -> None:
    result = run(
        "shell",
        sample.path,
        "--format",
        "jsonl",
        input="SELECT VALUE 1 FROM Person;\nSELEC 2;\nSELECT VALUE 3 FROM Person;",
    )
    assert (result.exit_code, result.stdout) == (1, "1\n")
    assert result.stderr.startswith("Error: stdin line 2: syntax error")


def test_script_ending_inside_a_transaction_fails(sample: Any, run: Any) -> None:
    result = run(
        "shell", sample.path, input="BEGIN; DELETE FROM Person WHERE GovId = 'LEWISR261LL';"
    )
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: the input ended inside a transaction: it was aborted and nothing was written "
        "(end it with COMMIT to keep its changes)\n"
    )
    assert "LEWISR261LL" in run("execute", sample.path, "SELECT * FROM Person").stdout


def test_script_error_inside_a_transaction_aborts_it(sample: Any, run: Any) -> None:
    result = run(
        "shell",
        sample.path,
        input="BEGIN; DELETE FROM Person WHERE GovId = 'LEWISR261LL'; SELECT * FROM Nope;",
    )
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "The transaction is still open: go on, COMMIT, or ABORT.\n"
        "The open transaction was aborted: nothing was written.\n"
    )
    assert "LEWISR261LL" in run("execute", sample.path, "SELECT * FROM Person").stdout


def test_script_refuses_whole_table_writes_without_yes(sample: Any, run: Any) -> None:
    result = run("shell", sample.path, input="DELETE FROM Person")
    assert result.exit_code == 1
    assert "refusing to run: DELETE without WHERE" in result.stderr
    assert run("shell", sample.path, "--yes", input="DELETE FROM Person").exit_code == 0


def test_file_option(sample: Any, run: Any, tmp_path: Path) -> None:
    script = tmp_path / "s.partiql"
    script.write_text("CREATE TABLE Car;\nINSERT INTO Car << {'VIN': 'A'}, {'VIN': 'B'} >>;\n")
    result = run("shell", sample.path, "-f", script, "-c", "\\format csv", "--format", "table")
    assert result.exit_code == 0
    assert run("execute", sample.path, "SELECT VALUE COUNT(*) FROM Car").stdout == "2\n"


def test_commands_run_before_the_file(sample: Any, run: Any, tmp_path: Path) -> None:
    script = tmp_path / "s.partiql"
    script.write_text("SELECT VALUE p.Name FROM Person AS p")
    result = run("shell", sample.path, "-c", "\\format csv", "-f", script)
    assert result.stdout == "value\nRaul\n"


def test_shell_without_a_path_uses_a_temporary_ledger(run: Any) -> None:
    result = run("shell", "-c", "CREATE TABLE T", "-c", "\\dt", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith("T,")


def test_demo_ledger(run: Any) -> None:
    result = run(
        "shell",
        "--demo",
        "-c",
        "SELECT VALUE name FROM information_schema.user_tables",
        "--format",
        "jsonl",
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ['"Person"', '"Vehicle"']
    assert run("shell", "--demo", "somewhere").exit_code == 2


def test_internal_errors_are_reported_without_a_traceback(
    db: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, _ = make_session(db)

    def boom(*args: object) -> object:
        raise RuntimeError("kaput")

    monkeypatch.setattr(db, "execute_lambda", boom)
    assert not session.run("SELECT * FROM Person")
    assert capsys.readouterr().err == "Error: internal error: RuntimeError: kaput\n"
    monkeypatch.setenv("LEDGER_DEBUG", "1")
    with pytest.raises(RuntimeError):
        session.run("SELECT * FROM Person")
