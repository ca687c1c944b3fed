"""A path that is not a ledger: one message and exit code from every command, and
nothing ever written into a directory that is not a ledger (CLI and ``connect``)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ledger

REPO = Path(__file__).resolve().parents[2]
ADDRESS = '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:0}'

# Every command that reads a ledger, with the arguments it needs besides PATH.
READERS = [
    ("execute", "{p}", "SELECT * FROM T"),
    ("shell", "{p}", "-c", "SELECT * FROM T"),
    ("tables", "{p}"),
    ("history", "{p}", "T"),
    ("verify", "{p}"),
    ("get-digest", "{p}"),
    ("get-block", "{p}", "--block-address", ADDRESS),
    ("get-revision", "{p}", "--block-address", ADDRESS, "--document-id", "x"),
    ("prove-consistency", "{p}", "--from-digest", "{digest}"),
    ("export", "{p}", "{out}"),
    ("load", "{p}", "T", "{docs}"),
]


def _args(template: tuple[str, ...], path: Path, tmp_path: Path) -> list[str]:
    digest = tmp_path / "digest.json"
    digest.write_text('{"Digest": "AAAA", "DigestTipAddress": {"IonText": "{}"}}')
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"a": 1}\n')
    values = {
        "p": str(path),
        "digest": str(digest),
        "out": str(tmp_path / "out"),
        "docs": str(docs),
    }
    return [values[a[1:-1]] if a in ("{p}", "{digest}", "{out}", "{docs}") else a for a in template]


@pytest.mark.parametrize("command", READERS, ids=[c[0] for c in READERS])
@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_every_command_refuses_a_path_with_no_ledger(
    command: tuple[str, ...], kind: str, tmp_path: Path, run: Any
) -> None:
    path = tmp_path / "typo.ledger"
    if kind == "empty":
        path.mkdir()
    result = run(*_args(command, path, tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: no ledger at {path} (create one with `ledger create {path}`)\n"
    assert (not path.exists()) if kind == "missing" else list(path.iterdir()) == []


@pytest.mark.parametrize("command", READERS, ids=[c[0] for c in READERS])
def test_every_command_refuses_a_directory_of_other_files(
    command: tuple[str, ...], tmp_path: Path, run: Any
) -> None:
    other = tmp_path / "etc"
    other.mkdir()
    (other / "passwd").write_text("root:x:0:0\n")
    result = run(*_args(command, other, tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{other} is not a ledger" in result.stderr
    assert sorted(p.name for p in other.iterdir()) == ["passwd"]


@pytest.mark.parametrize(
    "args",
    [
        ("create", "{p}"),
        ("execute", "{p}", "CREATE TABLE T", "--create"),
        ("shell", "{p}", "--create", "-c", "CREATE TABLE T"),
        ("load", "{p}", "T", "{docs}", "--create", "--create-table"),
    ],
    ids=lambda a: a[0],
)
def test_create_never_writes_into_a_directory_of_other_files(
    args: tuple[str, ...], tmp_path: Path, run: Any
) -> None:
    other = tmp_path / "etc"
    other.mkdir()
    (other / "hosts").write_text("127.0.0.1 localhost\n")
    result = run(*_args(args, other, tmp_path))
    assert result.exit_code in (1, 2) and "is not a ledger" in result.stderr
    assert sorted(p.name for p in other.iterdir()) == ["hosts"]


def test_create_then_use(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "new.ledger"
    created = run("create", path)
    assert created.exit_code == 0 and created.stderr == f"Created an empty ledger at {path}.\n"
    assert run("execute", path, "CREATE TABLE T").exit_code == 0
    assert run("tables", path, "--format", "csv").stdout.startswith("name,")
    again = run("create", path)
    assert (again.exit_code, again.stderr) == (1, f"Error: a ledger already exists at {path}\n")


def test_create_option_makes_the_ledger_for_execute_and_shell(tmp_path: Path, run: Any) -> None:
    assert run("execute", tmp_path / "a.ledger", "CREATE TABLE T", "--create").exit_code == 0
    empty = tmp_path / "b.ledger"
    empty.mkdir()
    assert run("shell", empty, "--create", "-c", "CREATE TABLE T").exit_code == 0
    for path in (tmp_path / "a.ledger", empty):
        with ledger.connect(path, create=False) as db:
            assert db.execute(
                "SELECT VALUE name FROM information_schema.user_tables"
            ).fetchall() == ["T"]


# -- ledger.connect ----------------------------------------------------------------------------
def test_connect_creates_in_a_missing_or_empty_directory_by_default(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for path in (tmp_path / "missing", empty):
        with ledger.connect(path) as db:
            db.execute("CREATE TABLE T")
        assert (path / "data.mdb").is_file()


def test_connect_create_false_only_opens(tmp_path: Path) -> None:
    with pytest.raises(ledger.NoLedgerError, match="no ledger at"):
        ledger.connect(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
    ledger.connect(tmp_path / "made").close()
    ledger.connect(tmp_path / "made", create=False).close()


def test_connect_create_true_refuses_an_existing_ledger(tmp_path: Path) -> None:
    ledger.connect(tmp_path / "l", create=True).close()
    with pytest.raises(ledger.StorageError, match="already exists"):
        ledger.connect(tmp_path / "l", create=True)


@pytest.mark.parametrize("create", [None, True, False])
def test_connect_never_writes_into_a_directory_of_other_files(tmp_path: Path, create: Any) -> None:
    other = tmp_path / "etc"
    other.mkdir()
    (other / "fstab").write_text("# nothing\n")
    with pytest.raises(ledger.StorageError, match="not a ledger|no ledger"):
        ledger.connect(other, create=create)
    assert [p.name for p in other.iterdir()] == ["fstab"]


# -- throwaway ledgers -----------------------------------------------------------------------
def test_memory_ledger_is_removed_when_garbage_collected() -> None:
    db = ledger.connect(":memory:")
    db.execute("CREATE TABLE T")
    where = Path(db.path).parent
    assert where.is_dir()
    del db
    gc.collect()
    assert not where.exists()


def test_memory_ledger_is_removed_at_exit_without_close() -> None:
    code = "import ledger; db = ledger.connect(':memory:'); db.execute('CREATE TABLE T'); print(db.path)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert not Path(done.stdout.strip()).parent.exists()


def test_demo_shell_ledger_is_removed_when_the_terminal_hangs_up(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "TMPDIR": str(tmp_path), "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ledger", "shell", "--demo"],
        cwd=str(REPO),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    child.expect("demo>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("ledger-demo-")]
    child.close(force=False)  # closes the terminal: SIGHUP to the shell
    child.wait() if child.isalive() else None
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("ledger-")]
    assert leftovers == []
