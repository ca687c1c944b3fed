"""Small things users notice: the demo shows its statements and says how to get the
`ledger` command; a bad LEDGER_STYLE never makes a committed write look failed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ledger

REPO = Path(__file__).resolve().parents[2]


def test_demo_shows_the_two_updates_and_ends_with_how_to_get_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ledger.demo"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    step = out[out.index("-- Two updates in one transaction") :]
    assert step.index("ledger> BEGIN") < step.index("ledger> UPDATE Vehicle AS v SET v.Price = ?")
    assert "ledger> UPDATE Vehicle AS v SET v.Owner = 'LEWISR261LL'" in step
    assert step.index("v.Owner") < step.index("ledger> COMMIT")
    tail = out[out.index("-- Next: the `ledger` command") :]
    for needed in ("source .venv/bin/activate", ".venv/bin/ledger", "pip install .", "ledgerdb"):
        assert needed in tail
    assert out.rstrip().endswith("(docs/shell.md)")


def test_bad_style_after_a_committed_insert_is_not_a_failure(sample: Any, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(
        LEDGER_STYLE="no-such-style",
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
        XDG_CONFIG_HOME=str(tmp_path),
        PAGER="cat",
    )
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
        child.expect("cars>")
        child.send("INSERT INTO Person VALUE {'GovId': 'P9', 'Name': 'Zed'}\r")
        child.expect("is not a Pygments style; using the default")
        child.expect("documentId")
        child.expect("cars>")
        shown = child.before or ""
        child.send("\\q\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Error" not in shown and "internal error" not in shown
    with ledger.connect(sample.path) as db:
        assert db.execute(
            "SELECT VALUE p.Name FROM Person AS p WHERE p.GovId = 'P9'"
        ).fetchall() == ["Zed"]


def test_project_docs_stand_alone() -> None:
    docs = REPO / "docs"
    for page in docs.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for outside in ("QLDB-HASHING.md", "BENCHMARKS.md"):
            assert outside not in text, f"{page.name} refers to {outside}"
    assert "hashing.md" in (docs / "verification.md").read_text(encoding="utf-8")
    for needed in ("dot(a, b)", "merkle", "Revision proof", "G11", "G12"):
        assert needed in (docs / "hashing.md").read_text() + (docs / "benchmarks.md").read_text()


@pytest.mark.parametrize("command", ["tables", "execute", "verify"])
def test_ctrl_c_exits_130_from_any_command(
    sample: Any, run: Any, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    from ledger.cli import explore
    from ledger.cli.session import Session
    from ledger.proof import verify

    monkeypatch.setattr(explore, "table_rows", interrupted)
    monkeypatch.setattr(Session, "run_one", interrupted)
    monkeypatch.setattr(verify, "verify", interrupted)
    monkeypatch.setattr("ledger.cli.journal_commands.verify", interrupted, raising=False)
    args = {"tables": (), "execute": ("SELECT * FROM Person",), "verify": ()}[command]
    result = run(command, sample.path, *args)
    assert result.exit_code == 130 and "Interrupted." in result.stderr
