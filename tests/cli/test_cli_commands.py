"""The ``ledger`` commands, run in-process through click: outputs, errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

import ledger
from ledger.cli.main import cli

REPO = Path(__file__).resolve().parents[2]


# -- help -----------------------------------------------------------------------------------
def all_commands(group: click.Group, prefix: str = "ledger") -> list[tuple[str, click.Command]]:
    """Every command under the group, including those journal_commands registered."""
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += all_commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


@pytest.mark.parametrize(
    ("name", "command"), all_commands(cli), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_with_examples(name: str, command: click.Command, run: Any) -> None:
    assert command.help and command.help.strip(), f"{name} has no help"
    result = run(*name.split()[1:], "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"{name} --help shows no examples"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts[0]} has no help"


def test_the_group_has_the_commands() -> None:
    assert {"shell", "execute", "history", "tables"} <= set(cli.commands)


def test_python_dash_m_ledger_runs_the_group(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "execute", str(tmp_path / "p.ledger"), "CREATE TABLE T", "--create"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("{\n  tableId: ")


def test_version(run: Any) -> None:
    """It names the core in use (docs/native.md): compiled, or its pure-Python twin."""
    from ledger.hashing.native import CORE_NAME

    assert run("--version").stdout == f"ledger, version {ledger.__version__} ({CORE_NAME} core)\n"


# -- execute --------------------------------------------------------------------------------
def test_execute_with_ion_parameters(sample: Any, run: Any) -> None:
    result = run(
        "execute", sample.path, "SELECT v.Make FROM Vehicle AS v WHERE v.VIN = ? AND v.Year > ?",
        "\"1N4AL11D75C109151\"", "2000",
    )  # fmt: skip
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        '{\n  Make: "Volkswagen"\n}\n',
        "",
    )


def test_execute_inserts_a_document_given_as_ion(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "new.ledger"
    assert run("execute", path, "CREATE TABLE Car", "--create").exit_code == 0
    result = run(
        "execute", path, "INSERT INTO Car ?", '{VIN: "X1", Price: 1.50}', "--format", "jsonl"
    )
    assert result.exit_code == 0 and result.stdout.startswith('{"documentId": "')
    result = run("execute", path, "SELECT * FROM Car", "--format", "csv")
    assert result.stdout == "VIN,Price\nX1,1.50\n"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("table", "+-------------------+------------+\n| VIN               | Make       |\n+-------------------+------------+\n"
                  "| 1N4AL11D75C109151 | Volkswagen |\n| KM8SRDHF6EU074761 | Tesla      |\n"
                  "+-------------------+------------+\n"),
        ("json", '[\n  {\n    "VIN": "1N4AL11D75C109151",\n    "Make": "Volkswagen"\n  },\n'
                 '  {\n    "VIN": "KM8SRDHF6EU074761",\n    "Make": "Tesla"\n  }\n]\n'),
        ("jsonl", '{"VIN": "1N4AL11D75C109151", "Make": "Volkswagen"}\n'
                  '{"VIN": "KM8SRDHF6EU074761", "Make": "Tesla"}\n'),
        ("csv", "VIN,Make\n1N4AL11D75C109151,Volkswagen\nKM8SRDHF6EU074761,Tesla\n"),
        ("vertical", "-[ RECORD 1 ]-----------\nVIN  | 1N4AL11D75C109151\nMake | Volkswagen\n"
                     "-[ RECORD 2 ]-----------\nVIN  | KM8SRDHF6EU074761\nMake | Tesla\n"),
        ("ion", '{\n  VIN: "1N4AL11D75C109151",\n  Make: "Volkswagen"\n}\n'
                '{\n  VIN: "KM8SRDHF6EU074761",\n  Make: "Tesla"\n}\n'),
    ],
)  # fmt: skip
def test_execute_formats(sample: Any, run: Any, fmt: str, expected: str) -> None:
    statement = "SELECT v.VIN, v.Make FROM Vehicle AS v ORDER BY v.VIN"
    result = run("execute", sample.path, statement, "--format", fmt)
    assert (result.exit_code, result.stdout) == (0, expected)


def test_execute_parse_error_shows_the_caret_without_a_traceback(sample: Any, run: Any) -> None:
    result = run("execute", sample.path, "SELECT * FROM Vehicle WHERE")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "Error: syntax error: unexpected end of statement at line 1, column 28\n"
        "  SELECT * FROM Vehicle WHERE\n"
        "                             ^\n"
    )
    assert "Traceback" not in result.stderr


def test_execute_semantic_error(sample: Any, run: Any) -> None:
    result = run("execute", sample.path, "SELECT * FROM Nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Nope" in result.stderr


def test_execute_bad_parameter_is_a_usage_error(sample: Any, run: Any) -> None:
    result = run("execute", sample.path, "SELECT * FROM Vehicle WHERE VIN = ?", "{unclosed")
    assert result.exit_code == 2
    assert "parameter 1 is not Ion text" in result.stderr


def test_execute_refuses_a_whole_table_delete_without_yes(sample: Any, run: Any) -> None:
    result = run("execute", sample.path, "DELETE FROM Person")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: refusing to run: DELETE without WHERE changes every document in Person. "
        "Add a WHERE clause, or pass --yes\n"
    )
    result = run("execute", sample.path, "DELETE FROM Person", "--yes", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout == f"documentId\n{sample.docs['LEWISR261LL']}\n"


def test_execute_runs_several_statements(tmp_path: Path, run: Any) -> None:
    result = run(
        "execute", tmp_path / "s.ledger", "CREATE TABLE A; CREATE TABLE B", "--format", "csv",
        "--create",
    )
    assert result.exit_code == 0 and result.stdout.count("tableId\n") == 2


def test_missing_arguments_are_usage_errors(run: Any) -> None:
    assert run("execute").exit_code == 2
    assert run("history").exit_code == 2
    assert run("shell", "--format", "xml").exit_code == 2


# -- tables and history ---------------------------------------------------------------------
def test_tables(sample: Any, run: Any) -> None:
    result = run("tables", sample.path)
    assert result.exit_code == 0
    assert result.stdout == (
        "+---------+------------------------+--------+---------+\n"
        "| name    | tableId                | status | indexes |\n"
        "+---------+------------------------+--------+---------+\n"
        f"| Person  | {sample.tables['Person']} | ACTIVE |         |\n"
        f"| Vehicle | {sample.tables['Vehicle']} | ACTIVE | VIN     |\n"
        "+---------+------------------------+--------+---------+\n"
    )


def test_tables_as_json_lists_dropped_tables_last(sample: Any, run: Any) -> None:
    with ledger.connect(sample.path) as db:
        db.execute("DROP TABLE Person")
    result = run("tables", sample.path, "--format", "jsonl")
    assert result.stdout == (
        f'{{"name": "Vehicle", "tableId": "{sample.tables["Vehicle"]}", "status": "ACTIVE", "indexes": "VIN"}}\n'
        f'{{"name": "Person", "tableId": "{sample.tables["Person"]}", "status": "INACTIVE", "indexes": ""}}\n'
    )


def test_tables_of_a_missing_ledger(tmp_path: Path, run: Any) -> None:
    result = run("tables", tmp_path / "nowhere")
    where = tmp_path / "nowhere"
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: no ledger at {where} (create one with `ledger create {where}`)\n",
    )
    assert not (tmp_path / "nowhere").exists()


def test_history_of_one_document(sample: Any, run: Any) -> None:
    doc = sample.docs["KM8SRDHF6EU074761"]
    with ledger.connect(sample.path) as db:
        db.execute("UPDATE Vehicle AS v SET v.Year = 2016 WHERE v.VIN = 'KM8SRDHF6EU074761'")
    result = run("history", sample.path, "Vehicle", doc)
    assert result.exit_code == 0
    assert sample.normalise(result.stdout) == (
        "{\n"
        "  blockAddress: {\n"
        '    strandId: "<strand>",\n'
        "    sequenceNo: 4\n"
        "  },\n"
        "  hash: {{<hash>}},\n"
        "  data: {\n"
        '    VIN: "KM8SRDHF6EU074761",\n'
        '    Make: "Tesla",\n'
        "    Year: 2015\n"
        "  },\n"
        "  metadata: {\n"
        '    id: "<KM8SRDHF6EU074761>",\n'
        "    version: 0,\n"
        "    txTime: <time>,\n"
        '    txId: "<id>"\n'
        "  }\n"
        "}\n"
        "{\n"
        "  blockAddress: {\n"
        '    strandId: "<strand>",\n'
        "    sequenceNo: 6\n"
        "  },\n"
        "  hash: {{<hash>}},\n"
        "  data: {\n"
        '    VIN: "KM8SRDHF6EU074761",\n'
        '    Make: "Tesla",\n'
        "    Year: 2016\n"
        "  },\n"
        "  metadata: {\n"
        '    id: "<KM8SRDHF6EU074761>",\n'
        "    version: 1,\n"
        "    txTime: <time>,\n"
        '    txId: "<id>"\n'
        "  }\n"
        "}\n"
    )


def test_history_of_a_table_as_a_flat_table(sample: Any, run: Any) -> None:
    result = run("history", sample.path, "Person", "--format", "csv")
    header, row = result.stdout.splitlines()
    assert header == (
        "blockAddress.strandId,blockAddress.sequenceNo,hash,data.GovId,data.Name,"
        "metadata.id,metadata.version,metadata.txTime,metadata.txId"
    )
    assert row.startswith(f"{sample.strand},5,")
    assert f",LEWISR261LL,Raul,{sample.docs['LEWISR261LL']},0," in row


def test_history_of_a_dropped_table_by_id(sample: Any, run: Any) -> None:
    with ledger.connect(sample.path) as db:
        db.execute("DROP TABLE Person")
    result = run("history", sample.path, sample.tables["Person"], "--format", "jsonl")
    assert result.exit_code == 0 and '"GovId": "LEWISR261LL"' in result.stdout


def test_history_of_an_unknown_table(sample: Any, run: Any) -> None:
    result = run("history", sample.path, "Nope")
    assert result.exit_code == 1
    assert result.stderr == "Error: no table named 'Nope' (tables: Person, Vehicle)\n"
