"""Scripts and the shell: one splitting rule, line numbers, bytes that are not UTF-8,
the transaction timeout, switches that take on/off, and a history file that fails."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.cli.buffer import split_located

REPO = Path(__file__).resolve().parents[2]

PASTED = """CREATE TABLE Car
INSERT INTO Car VALUE {'VIN': 'A', 'Year': 2011}
INSERT INTO Car << {'VIN': 'B',
  'Year': 2015} >>
SELECT c.VIN
FROM Car AS c
WHERE c.Year > 2012
"""


def test_a_pasted_session_without_semicolons_runs_as_a_script(tmp_path: Path, run: Any) -> None:
    assert [line for _, line in split_located(PASTED)] == [1, 2, 3, 5]
    path = tmp_path / "l.ledger"
    result = run("shell", path, "--create", "--format", "jsonl", input=PASTED)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith('{"VIN": "B"}\n')


def test_script_errors_name_the_line_of_the_file(sample: Any, tmp_path: Path, run: Any) -> None:
    script = tmp_path / "setup.partiql"
    script.write_text("SELECT * FROM Person;\n\n-- a comment\nSELECT *\nFROM Vehicel;\n")
    result = run("shell", sample.path, "-f", script)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {script} line 4: ")
    nested = tmp_path / "outer.partiql"
    nested.write_text(f"SELECT * FROM Person\n\\i {script}\n")
    assert f"Error: {script} line 4: " in run("shell", sample.path, "-f", nested).stderr


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_input_that_is_not_utf8_is_refused_with_its_offset(
    sample: Any, tmp_path: Path, run: Any, how: str
) -> None:
    data = "INSERT INTO Person VALUE {'Name': 'Zoë'}".encode("latin-1")
    script = tmp_path / "latin1.partiql"
    script.write_bytes(data)
    args = ("-f", script) if how == "file" else ()
    result = run("shell", sample.path, *args, input=None if how == "file" else data)
    assert result.exit_code == 1
    assert "is not UTF-8: byte 0xeb at byte offset 37 (line 1); nothing was run" in result.stderr
    with ledger.connect(sample.path) as db:  # the data was never changed
        assert len(db.execute("SELECT * FROM Person").fetchall()) == 1


def test_a_command_line_argument_that_is_not_utf8(sample: Any) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger",
            "execute",
            str(sample.path),
            b"SELECT 'caf\xe9' FROM Person",
        ],
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 1
    assert b"STATEMENT is not UTF-8: byte 0xe9 at byte offset 11" in done.stderr


# -- transaction timeout ---------------------------------------------------------------------
def _slow_table(path: Path, n: int = 400) -> None:
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE T")
        for start in range(0, n, 40):
            db.execute(
                "INSERT INTO T ?", [{"i": i, "pad": "x" * 100} for i in range(start, start + 40)]
            )


def test_a_read_only_statement_keeps_its_results_past_the_timeout(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "l.ledger"
    _slow_table(path)
    query = "SELECT COUNT(*) AS n FROM T AS a, T AS b WHERE a.i = b.i"  # well over 1 ms
    result = run("execute", path, query, "--transaction-timeout", "0.001", "--format", "jsonl")
    assert (result.exit_code, result.stdout) == (0, '{"n": 400}\n'), result.stderr


def test_python_limits_read_only_commit_after_the_timeout(tmp_path: Path) -> None:
    with ledger.connect(tmp_path / "l") as db:
        db.execute("CREATE TABLE T")
    with ledger.connect(tmp_path / "l", limits=ledger.Limits(transaction_timeout=0.05)) as db:
        tx = db.transaction()
        assert tx.execute("SELECT * FROM T").fetchall() == []
        time.sleep(0.1)
        tx.commit()  # nothing to lose: no expiry
        tx = db.transaction()
        tx.execute("INSERT INTO T VALUE {'a': 1}")
        time.sleep(0.1)
        with pytest.raises(ledger.TransactionExpiredError):
            tx.commit()
        assert db.execute("SELECT * FROM T").fetchall() == []


# -- switches ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "said"),
    [("\\timing", "Timing is"), ("\\x", "Expanded display is"), ("\\pager", "Pager is")],
)
def test_switches_honour_on_and_off(sample: Any, run: Any, command: str, said: str) -> None:
    text = f"{command} on\n{command} on\n{command} off\n{command} off\n{command}\n"
    result = run("shell", sample.path, input=text)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"{said} on.",
        f"{said} on.",
        f"{said} off.",
        f"{said} off.",
        f"{said} on.",
    ]
    bad = run("shell", sample.path, "-c", f"{command} maybe")
    assert bad.exit_code == 1 and f"usage: {command} [on|off]" in bad.stderr


# -- history file ---------------------------------------------------------------------------
def test_shell_without_a_writable_history_warns_once_and_goes_on(
    sample: Any, tmp_path: Path
) -> None:
    pexpect = pytest.importorskip("pexpect")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config directory should be\n")
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(blocker),
        "NO_COLOR": "1",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "TERM": "xterm",
        "PAGER": "cat",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ledger", "shell", str(sample.path)],
        cwd=str(REPO),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    try:
        child.expect("history is not saved")
        child.expect("cars>")
        child.send("SELECT VALUE p.Name FROM Person AS p\r")
        child.expect("Raul")
        child.expect("cars>")
        child.send("\\q\r")
        child.expect(pexpect.EOF)
        assert "history is not saved" not in (child.before or "")  # said once only
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
