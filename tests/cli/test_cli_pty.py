"""End-to-end shell sessions through a real pseudo-terminal (pexpect).

The shell is the real ``python -m ledger shell`` with prompt_toolkit in charge of the
terminal; these tests type at it and read the screen.  Colour is off (NO_COLOR) and
cursor-position requests are off, so what is printed can be matched as text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parents[2]
ENTER = "\r"
ESC_ENTER = "\x1b\r"
CTRL_D = "\x04"


@pytest.fixture
def spawn(user_config: Path) -> Iterator[Any]:
    children: list[Any] = []

    def start(path: Path) -> Any:
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(user_config),
            "TERM": "xterm",
            "NO_COLOR": "1",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "PAGER": "cat",
        }
        child = pexpect.spawn(
            sys.executable,
            ["-m", "ledger", "shell", str(path)],
            cwd=str(REPO),
            env=env,
            encoding="utf-8",
            timeout=30,
            dimensions=(40, 200),
        )
        children.append(child)
        child.expect("cars>")  # the banner, then the first prompt
        return child

    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def type_line(child: Any, text: str) -> None:
    child.send(text)
    child.send(ENTER)


def people(path: Path) -> list[str]:
    with ledger.connect(path) as db:
        return sorted(str(v) for v in db.execute("SELECT VALUE p.GovId FROM Person AS p"))


def test_multi_line_input_and_history(sample: Any, spawn: Any, user_config: Path) -> None:
    child = spawn(sample.path)
    # an open bracket: Enter starts a new line instead of running
    type_line(child, "SELECT VALUE p.Name FROM Person AS p WHERE p.GovId IN (")
    child.expect(r"\.\.\.>")
    type_line(child, "'LEWISR261LL')")
    child.expect('"Raul"')
    child.expect(r"1 document in bag, \d+\.\d+ m?s")
    child.expect("cars>")
    # Esc+Enter adds a line even though the input is complete
    child.send("SELECT VALUE p.GovId")
    child.send(ESC_ENTER)
    child.expect(r"\.\.\.>")
    type_line(child, "FROM Person AS p")
    child.expect('"LEWISR261LL"')
    child.expect("cars>")
    # Ctrl-R finds the first statement again; Enter takes it, Enter runs it
    child.send("\x12")
    child.expect("I-search backward")
    child.send("IN (")
    child.send(ENTER)
    child.send(ENTER)
    child.expect('"Raul"')
    child.expect("cars>")
    type_line(child, "\\q")
    child.expect(pexpect.EOF)
    history = (user_config / "ledger" / "history").read_text()
    assert "+SELECT VALUE p.GovId\n+FROM Person AS p\n" in history


def test_transaction_commit(sample: Any, spawn: Any) -> None:
    child = spawn(sample.path)
    type_line(child, "BEGIN")
    child.expect("Transaction started")
    child.expect(r"cars(\x1b\[[0-9;]*m)* \(transaction\)")  # the prompt shows the open transaction
    type_line(child, "INSERT INTO Person VALUE {'GovId': 'NEW1'}")
    child.expect("documentId")
    type_line(child, "COMMIT")
    child.expect("Transaction committed.")
    child.expect("cars>")
    type_line(child, "\\q")
    child.expect(pexpect.EOF)
    assert people(sample.path) == ["LEWISR261LL", "NEW1"]


def test_transaction_abort_and_ctrl_d_abort(sample: Any, spawn: Any) -> None:
    child = spawn(sample.path)
    type_line(child, "START TRANSACTION")
    child.expect(r"\(transaction\)")
    type_line(child, "DELETE FROM Person AS p WHERE p.GovId = 'LEWISR261LL'")
    child.expect("documentId")
    type_line(child, "ABORT")
    child.expect("Transaction aborted: nothing was written.")
    child.expect("cars>")
    type_line(child, "BEGIN")
    child.expect(r"\(transaction\)")
    type_line(child, "INSERT INTO Person VALUE {'GovId': 'LOST'}")
    child.expect("documentId")
    child.expect("cars")
    child.send(CTRL_D)
    child.expect("The open transaction was aborted: nothing was written.")
    child.expect(pexpect.EOF)
    assert people(sample.path) == ["LEWISR261LL"]


def test_completion_offers_a_table_name(sample: Any, spawn: Any) -> None:
    child = spawn(sample.path)
    child.send("SELECT * FROM Veh")
    child.send("\t")
    child.expect("Vehicle")  # the menu, then the completed word
    child.send(ENTER)  # takes the highlighted completion
    child.send(ENTER)  # runs the statement
    child.expect('VIN: "1N4AL11D75C109151"')
    child.expect("2 documents in bag")
    # a new table is offered once the background refresh after the DDL has run
    type_line(child, "CREATE TABLE Truck")
    child.expect("tableId")
    type_line(child, "\\dt")  # a round trip, while the refresh (milliseconds here) runs
    child.expect(r"\| Truck ")
    child.expect("cars>")
    child.send("SELECT * FROM Tru")
    child.send("\t")
    child.send(ENTER)
    child.send(ENTER)
    child.expect("0 documents in bag")
    type_line(child, "\\q")
    child.expect(pexpect.EOF)


def test_whole_table_delete_asks_first(sample: Any, spawn: Any) -> None:
    child = spawn(sample.path)
    type_line(child, "DELETE FROM Person")
    child.expect(r"DELETE without WHERE changes every document in Person\. Run it\? \[y/N\]")
    type_line(child, "n")
    child.expect("Cancelled: nothing was run.")
    child.expect("cars>")
    type_line(child, "\\q")
    child.expect(pexpect.EOF)
    assert people(sample.path) == ["LEWISR261LL"]


def test_errors_keep_the_shell_running(sample: Any, spawn: Any) -> None:
    child = spawn(sample.path)
    type_line(child, "SELECT * FROM Vehicle WHERE;")
    child.expect("Error: syntax error")
    child.expect(r"\^")
    child.expect("cars>")
    type_line(child, "\\dt")
    child.expect(r"\| Vehicle \|")
    type_line(child, "\\q")
    child.expect(pexpect.EOF)
    assert child.before is not None and "Traceback" not in child.before
