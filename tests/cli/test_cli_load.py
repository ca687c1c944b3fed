"""``ledger load`` and the shell's ``\\import``: formats, whole transactions, bad records,
resuming with ``--skip``, progress only on a terminal, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.load import readers

REPO = Path(__file__).resolve().parents[2]


def _docs(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"VIN": f"V{i:05d}", "Year": 2000 + i % 20, "Price": f"{i}.50"}
        for i in range(start, start + n)
    ]


def _jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


def _vins(path: Path, table: str = "Vehicle") -> list[str]:
    with ledger.connect(path, create=False) as db:
        return sorted(db.execute(f"SELECT VALUE v.VIN FROM {table} AS v").fetchall())


def _blocks(path: Path) -> int:
    with ledger.connect(path, create=False) as db:
        return db.digest().tip.sequence_no + 1


@pytest.fixture
def made(tmp_path: Path) -> Path:
    path = tmp_path / "l.ledger"
    ledger.connect(path).close()
    return path


def test_jsonl_in_transactions_of_the_batch_size(made: Path, tmp_path: Path, run: Any) -> None:
    data = _jsonl(tmp_path / "v.jsonl", _docs(100))
    result = run("load", made, "Vehicle", data, "--create-table", "--batch", "30")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Created table Vehicle.\nLoaded 100 documents into Vehicle in 4 transactions"
    )
    assert "Committed up to record 100 (" in result.stdout and "v.jsonl line 100)" in result.stdout
    assert result.stderr == ""  # no progress line: stderr is not a terminal
    assert _vins(made) == [d["VIN"] for d in _docs(100)]
    assert _blocks(made) == 1 + 4  # CREATE TABLE, then one block per transaction


def test_default_batch_is_the_transaction_limit(made: Path, tmp_path: Path, run: Any) -> None:
    data = _jsonl(tmp_path / "v.jsonl", _docs(81))
    result = run("load", made, "Vehicle", data, "--create-table")
    assert "in 3 transactions" in result.stdout  # 40 + 40 + 1
    assert run("load", made, "Vehicle", data, "--batch", "41").exit_code == 1


def test_values_keep_their_json_types(made: Path, tmp_path: Path, run: Any) -> None:
    data = tmp_path / "v.jsonl"
    data.write_text('{"a": 1, "b": 1.25, "c": "x", "d": [true, null], "e": {"f": 2}}\n')
    assert run("load", made, "T", data, "--create-table").exit_code == 0
    with ledger.connect(made) as db:
        (row,) = db.execute("SELECT * FROM T").fetchall()
    assert dict(row) == {"a": 1, "b": Decimal("1.25"), "c": "x", "d": [True, None], "e": {"f": 2}}
    assert isinstance(row["b"], Decimal)


def test_json_array_ion_and_several_files(made: Path, tmp_path: Path, run: Any) -> None:
    array = tmp_path / "a.json"
    array.write_text(json.dumps(_docs(3), indent=2))
    stream = tmp_path / "b.ion"
    stream.write_text(" ".join(ledger.ion.dumps_text(d) for d in _docs(2, 3)))
    result = run("load", made, "Vehicle", array, stream, "--create-table")
    assert result.exit_code == 0, result.output
    assert _vins(made) == [d["VIN"] for d in _docs(5)]


def test_csv_typed_as_the_shell_reads_values_or_all_strings(
    made: Path, tmp_path: Path, run: Any
) -> None:
    data = tmp_path / "p.csv"
    data.write_text(
        'Name,Age,Joined,Zip,Note\nAnn,31,2024-05-01T,01234,"a, b"\nBob,,2024-06-01T,,\n'
    )
    assert run("load", made, "P", data, "--create-table").exit_code == 0
    assert run("load", made, "S", data, "--create-table", "--csv-strings").exit_code == 0
    with ledger.connect(made) as db:
        typed = [dict(r) for r in db.execute("SELECT * FROM P AS p ORDER BY p.Name")]
        strings = [dict(r) for r in db.execute("SELECT * FROM S AS s ORDER BY s.Name")]
    assert typed[0]["Age"] == 31 and typed[0]["Zip"] == "01234" and typed[0]["Note"] == "a, b"
    assert str(typed[0]["Joined"]).startswith("2024-05-01")
    assert typed[1] == {"Name": "Bob", "Joined": typed[1]["Joined"]}  # empty cells: no field
    assert strings[0] == {
        "Name": "Ann",
        "Age": "31",
        "Joined": "2024-05-01T",
        "Zip": "01234",
        "Note": "a, b",
    }
    assert strings[1]["Age"] == ""


def test_bad_record_commits_everything_before_it_and_skip_resumes(
    made: Path, tmp_path: Path, run: Any
) -> None:
    lines = [json.dumps(d) for d in _docs(50)]
    lines[44] = '{"VIN": "broken",'  # record 45, mid-way through the second batch of 40
    data = tmp_path / "v.jsonl"
    data.write_text("\n".join(lines) + "\n")
    result = run("load", made, "Vehicle", data, "--create-table")
    assert result.exit_code == 1
    assert f"Error: {data} line 45: not JSON:" in result.stderr
    assert "records 1 to 44 are committed. Fix it and resume with --skip 44." in result.stderr
    assert "Loaded 44 documents" in result.stdout
    assert _vins(made) == [d["VIN"] for d in _docs(44)]
    lines[44] = json.dumps(_docs(50)[44])
    data.write_text("\n".join(lines) + "\n")
    resumed = run("load", made, "Vehicle", data, "--skip", "44")
    assert resumed.exit_code == 0 and "after skipping 44 records" in resumed.stdout
    assert _vins(made) == [d["VIN"] for d in _docs(50)]  # each exactly once


def test_a_document_the_ledger_refuses_is_named_by_line(
    made: Path, tmp_path: Path, run: Any
) -> None:
    docs: list[dict[str, Any]] = _docs(10)
    docs[6] = {"VIN": "big", "Blob": "x" * (200 * 1024)}  # over QLDB's 128 KB document limit
    result = run("load", made, "Vehicle", _jsonl(tmp_path / "v.jsonl", docs), "--create-table")
    assert result.exit_code == 1 and "v.jsonl line 7:" in result.stderr
    assert "--skip 6" in result.stderr
    assert _vins(made) == [d["VIN"] for d in docs[:6]]


def test_records_that_are_not_documents(made: Path, tmp_path: Path, run: Any) -> None:
    data = tmp_path / "v.jsonl"
    data.write_text('{"a": 1}\n\n[1, 2]\n')
    result = run("load", made, "T", data, "--create-table")
    assert result.exit_code == 1
    assert "v.jsonl line 3: a document must be a JSON object, not a list" in result.stderr


def test_input_that_is_not_utf8_names_the_byte_offset(made: Path, tmp_path: Path, run: Any) -> None:
    data = tmp_path / "v.jsonl"
    data.write_bytes(b'{"a": "ok"}\n{"a": "caf\xe9"}\n')
    result = run("load", made, "T", data, "--create-table")
    assert result.exit_code == 1
    assert "v.jsonl line 2: not UTF-8: byte 0xe9 at byte offset 22" in result.stderr
    with ledger.connect(made) as db:
        assert db.execute("SELECT VALUE t.a FROM T AS t").fetchall() == ["ok"]


def test_missing_table_and_unknown_extension(made: Path, tmp_path: Path, run: Any) -> None:
    data = _jsonl(tmp_path / "v.jsonl", _docs(1))
    missing = run("load", made, "Vehicle", data)
    assert missing.exit_code == 1 and "no table Vehicle" in missing.stderr
    odd = tmp_path / "v.txt"
    odd.write_text("{}\n")
    result = run("load", made, "Vehicle", odd, "--create-table")
    assert result.exit_code == 1 and "pass --format" in result.stderr
    assert run("load", made, "Vehicle", odd, "--format", "jsonl", "--create-table").exit_code == 0


def test_reader_line_numbers_for_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[\n  {"a": 1},\n\n  {"b": 2}, {"c": 3}\n]')
    assert [r.line for r in readers.read(str(path), "json")] == [2, 4, 4]


def test_import_in_the_shell(made: Path, tmp_path: Path, run: Any) -> None:
    data = _jsonl(tmp_path / "v.jsonl", _docs(45))
    result = run("shell", made, "-c", f"\\import {data} Vehicle")
    assert result.exit_code == 0, result.output
    assert "Loaded 45 documents into Vehicle in 2 transactions" in result.stderr
    assert _vins(made) == [d["VIN"] for d in _docs(45)]
    inside = run("shell", made, input=f"BEGIN;\n\\import {data} Vehicle\n")
    assert inside.exit_code == 1 and "COMMIT or ABORT" in inside.stderr


def _spawn_load(made: Path, data: Path, *extra: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger",
            "load",
            str(made),
            "Vehicle",
            str(data),
            "--create-table",
            *extra,
        ],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_ctrl_c_leaves_whole_transactions_and_exits_130(made: Path, tmp_path: Path) -> None:
    docs = _docs(20_000)
    data = _jsonl(tmp_path / "v.jsonl", docs)
    child = _spawn_load(made, data, "--batch", "3")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _count_or_zero(made) < 30:
        time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    loaded = _vins(made)
    assert len(loaded) % 3 == 0 and len(loaded) < len(docs)
    assert f"resume with --skip {len(loaded)}" in err
    assert f"Loaded {len(loaded):,} documents" in out


def _count_or_zero(path: Path) -> int:
    try:
        with ledger.connect(path, readonly=True) as db:
            return len(db.execute("SELECT VALUE 1 FROM Vehicle").fetchall())
    except ledger.Error:
        return 0


def test_progress_line_on_a_terminal(made: Path, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    data = _jsonl(tmp_path / "v.jsonl", _docs(400))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ledger", "load", str(made), "Vehicle", str(data), "--create-table", "--batch", "1"],
        cwd=str(REPO),
        env={**os.environ, "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=120,
    )
    child.expect(r"loaded [\d,]+ documents \([\d,]+/s\)")
    child.expect("Loaded 400 documents")
    child.expect(pexpect.EOF)
