"""Every meta-command, run through ``ledger shell PATH -c …`` with exact outputs."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger import ion
from ledger.cli import meta
from ledger.query.context import BlockAddress


def shell(run: Any, path: Path, *commands: str, fmt: str | None = None) -> Any:
    args: list[str | Path] = ["shell", path]
    for command in commands:
        args += ["-c", command]
    if fmt:
        args += ["--format", fmt]
    return run(*args)


# -- exploring --------------------------------------------------------------------------------
def test_dt(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\dt")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "+---------+------------------------+--------+---------+\n"
        "| name    | tableId                | status | indexes |\n"
        "+---------+------------------------+--------+---------+\n"
        f"| Person  | {sample.tables['Person']} | ACTIVE |         |\n"
        f"| Vehicle | {sample.tables['Vehicle']} | ACTIVE | VIN     |\n"
        "+---------+------------------------+--------+---------+\n"
    )


def test_dt_on_an_empty_ledger_says_how_to_start(tmp_path: Path, run: Any) -> None:
    ledger.connect(tmp_path / "empty.ledger").close()
    result = shell(run, tmp_path / "empty.ledger", "\\dt")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "No tables yet. Create one with: CREATE TABLE Person\n"


def test_d_table(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\d Vehicle")
    assert result.exit_code == 0
    assert result.stdout == (
        f"Table Vehicle (tableId {sample.tables['Vehicle']}, ACTIVE): 2 documents\n"
        "Indexes:\n"
        "+-------+------------------------+--------+\n"
        "| field | indexId                | status |\n"
        "+-------+------------------------+--------+\n"
        f"| VIN   | {sample.index} | ONLINE |\n"
        "+-------+------------------------+--------+\n"
        "Fields (sampled from 2 documents):\n"
        "+------------+--------+---------+\n"
        "| field      | types  | present |\n"
        "+------------+--------+---------+\n"
        "| VIN        | string | 2       |\n"
        "| Make       | string | 2       |\n"
        "| Year       | int    | 2       |\n"
        "| Owner      | struct | 1       |\n"
        "| Owner.Name | string | 1       |\n"
        "+------------+--------+---------+\n"
    )


def test_d_without_a_table_lists_tables(sample: Any, run: Any) -> None:
    assert shell(run, sample.path, "\\d").stdout == shell(run, sample.path, "\\dt").stdout


def test_d_in_a_machine_format_is_one_value(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\d Person", fmt="jsonl")
    assert result.stdout == (
        f'{{"name": "Person", "tableId": "{sample.tables["Person"]}", "status": "ACTIVE", '
        '"documents": 1, "indexes": [], "fields": [{"field": "GovId", "types": "string", "present": 1}, '
        '{"field": "Name", "types": "string", "present": 1}]}\n'
    )


def test_d_of_an_empty_and_of_an_unknown_table(sample: Any, run: Any) -> None:
    with ledger.connect(sample.path) as db:
        table_id = db.execute("CREATE TABLE Empty").one()["tableId"]
    result = shell(run, sample.path, "\\d Empty")
    assert result.stdout == (
        f"Table Empty (tableId {table_id}, ACTIVE): 0 documents\nIndexes: none\nFields: none (no documents)\n"
    )
    result = shell(run, sample.path, "\\d Nope")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no table named 'Nope' (tables: Empty, Person, Vehicle)\n",
    )


def test_history(sample: Any, run: Any) -> None:
    doc = sample.docs["LEWISR261LL"]
    result = shell(run, sample.path, f"\\history Person {doc}", fmt="vertical")
    assert result.exit_code == 0
    assert sample.normalise(_plain_header(result.stdout)) == (
        "-[ RECORD 1 ]\n"
        "blockAddress.strandId   | <strand>\n"
        "blockAddress.sequenceNo | 5\n"
        "hash                    | <hash>\n"
        "data.GovId              | LEWISR261LL\n"
        "data.Name               | Raul\n"
        "metadata.id             | <LEWISR261LL>\n"
        "metadata.version        | 0\n"
        "metadata.txTime         | <time>\n"
        "metadata.txId           | <id>\n"
    )


def _plain_header(text: str) -> str:
    """The record header without its dashes (their number follows the longest line)."""
    return re.sub(r"^(-\[ RECORD \d+ \])-*$", r"\1", text, flags=re.M)


def test_history_usage_and_no_revisions(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\history")
    assert (result.exit_code, result.stderr) == (1, "Error: usage: \\history TABLE [DOCUMENT_ID]\n")
    result = shell(run, sample.path, "\\history Person 0000000000000000000000")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No revisions.\n")


# -- proofs -------------------------------------------------------------------------------------
def test_digest(sample: Any, run: Any) -> None:
    with ledger.connect(sample.path) as db:
        digest = db.digest()
    result = shell(run, sample.path, "\\digest")
    text = base64.b64encode(digest.digest).decode()
    tip = digest.tip_ion_text()
    width = len(f"digestTipAddress | {tip}")
    assert result.stdout == (
        "-[ RECORD 1 ]".ljust(width, "-") + "\n"
        f"digest           | {text}\n"
        f"digestTipAddress | {tip}\n"
    )
    result = shell(run, sample.path, "\\digest", fmt="jsonl")
    assert result.stdout == (
        f'{{"digest": "{text}", "digestTipAddress": "{tip.replace(chr(34), chr(92) + chr(34))}"}}\n'
    )


def test_verify_a_good_ledger(sample: Any, run: Any) -> None:
    """Needs Ledger.verify() (the lead's proof issue)."""
    result = shell(run, sample.path, "\\verify")
    assert result.exit_code == 0, result.stderr
    assert re.fullmatch(r"Verified \d+ blocks and \d+ revisions\.\n", result.stderr)
    assert re.search(r"verified +\| true", result.stdout)


@dataclass
class FakeReport:
    verified: bool = False
    blocks: int = 7
    revisions: int = 3
    digest: bytes = b"\x01\x02"
    tip: BlockAddress = BlockAddress("s" * 22, 6)
    failure: str | None = "block 4: blockHash does not match its contents"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "blocks": self.blocks, "failure": self.failure}


def test_verify_failure_exits_3(sample: Any, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger.Ledger, "verify", lambda self: FakeReport(), raising=False)
    result = shell(run, sample.path, "\\verify", "SELECT * FROM Person")
    assert result.exit_code == 3
    assert _plain_header(result.stdout) == (
        "-[ RECORD 1 ]\n"
        "verified | false\n"
        "blocks   | 7\n"
        "failure  | block 4: blockHash does not match its contents\n"
    )
    assert (
        result.stderr
        == "Error: verification failed: block 4: blockHash does not match its contents\n"
    )


def test_proof(sample: Any, run: Any) -> None:
    """Needs Ledger.get_revision() (the lead's proof issue)."""
    doc = sample.docs["1N4AL11D75C109151"]
    address = f'{{strandId:"{sample.strand}",sequenceNo:3}}'
    result = shell(run, sample.path, f"\\proof {address} {doc}")
    assert result.exit_code == 0, result.stderr
    (value,) = ion.loads_all(result.stdout)
    assert value["revision"]["data"]["VIN"] == "1N4AL11D75C109151"
    assert value["revision"]["metadata"]["id"] == doc
    assert all(isinstance(h, bytes) and len(h) == 32 for h in value["proof"])
    assert value["digestTipAddress"].startswith(f'{{strandId:"{sample.strand}",sequenceNo:')


def test_proof_passes_the_address_the_id_and_the_current_tip(
    sample: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake(
        self: ledger.Ledger, address: BlockAddress, doc_id: str, tip: BlockAddress | None = None
    ) -> Any:
        calls.append((address, doc_id, tip))
        return {"data": {"a": 1}}, [b"\x00" * 32]

    monkeypatch.setattr(ledger.Ledger, "get_revision", fake, raising=False)
    result = shell(
        run,
        sample.path,
        f'\\proof `{{strandId: "{sample.strand}", sequenceNo: 3}}` DOC',
        fmt="jsonl",
    )
    assert calls == [(BlockAddress(sample.strand, 3), "DOC", BlockAddress(sample.strand, 5))]
    assert result.stdout.startswith(
        '{"revision": {"data": {"a": 1}}, "proof": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], '
    )
    # \proof checks what it printed: this fake revision has no metadata or hash
    assert result.exit_code == 1 and "malformed revision" in result.stderr


def test_proof_checks_a_real_revision(sample: Any, run: Any) -> None:
    with ledger.connect(sample.path) as db:
        (row,) = db.execute(
            "SELECT r.blockAddress, r.metadata.id FROM _ql_committed_Person AS r"
        ).fetchall()
    address = ion.dumps_text(row["blockAddress"])
    result = shell(run, sample.path, f"\\proof {address} {row['id']}", fmt="jsonl")
    assert result.exit_code == 0, result.stderr
    assert "Proof checked: the revision's hash recomputes" in result.stderr


@pytest.mark.parametrize("args", ["", "DOC", "{strandId:1} DOC", "{nope DOC"])
def test_proof_bad_arguments(sample: Any, run: Any, args: str) -> None:
    result = shell(run, sample.path, f"\\proof {args}")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


# -- display ------------------------------------------------------------------------------------
def test_format_switches_the_output(sample: Any, run: Any) -> None:
    result = shell(
        run, sample.path, "\\format csv", "SELECT VALUE p.GovId FROM Person AS p", "\\format"
    )
    assert (result.exit_code, result.stdout) == (0, "value\nLEWISR261LL\n")
    assert result.stderr == (
        "Output format is csv.\nOutput format is csv (choices: ion, json, jsonl, table, csv, vertical).\n"
    )


def test_format_unknown(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\format xml")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: unknown format 'xml'; choose one of ion, json, jsonl, table, csv, vertical\n",
    )


def test_timing_prints_the_summary_line(sample: Any, run: Any) -> None:
    result = shell(
        run, sample.path, "\\timing", "SELECT * FROM Vehicle", "\\timing", "SELECT * FROM Person"
    )
    lines = result.stderr.splitlines()
    assert lines[0] == "Timing is on."
    assert re.fullmatch(r"2 documents in bag, \d+\.\d (ms|s)", lines[1])
    assert lines[2:] == ["Timing is off."]


def test_timing_flag(sample: Any, run: Any) -> None:
    result = run("shell", sample.path, "--timing", "-c", "SELECT * FROM Person")
    assert re.fullmatch(r"1 document in bag, \d+\.\d+ (ms|s)\n", result.stderr)


def test_x_shows_records_vertically(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\x", "SELECT * FROM Person")
    assert result.stdout == "-[ RECORD 1 ]------\nGovId | LEWISR261LL\nName  | Raul\n"
    assert result.stderr == "Expanded display is on.\n"
    # machine formats are left alone
    assert shell(run, sample.path, "\\x", "SELECT * FROM Person", fmt="jsonl").stdout == (
        '{"GovId": "LEWISR261LL", "Name": "Raul"}\n'
    )


def test_pager_toggle(sample: Any, run: Any) -> None:
    assert shell(run, sample.path, "\\pager", "\\pager").stderr == "Pager is on.\nPager is off.\n"


# -- files and the session ----------------------------------------------------------------------
def test_i_runs_a_file(sample: Any, run: Any, tmp_path: Path) -> None:
    script = tmp_path / "q.partiql"
    script.write_text(
        "-- count people\nSELECT COUNT(*) AS n FROM Person;\n\\format jsonl\nSELECT VALUE 1 FROM Person\n"
    )
    result = shell(run, sample.path, f"\\i {script}")
    assert (result.exit_code, result.stdout) == (0, "{\n  n: 1\n}\n1\n")


def test_i_missing_file(sample: Any, run: Any, tmp_path: Path) -> None:
    result = shell(run, sample.path, f"\\i {tmp_path}/nope.partiql")
    assert result.exit_code == 1
    assert (
        result.stderr == f"Error: cannot read {tmp_path}/nope.partiql: No such file or directory\n"
    )
    assert shell(run, sample.path, "\\i").stderr == "Error: usage: \\i FILE\n"


def test_o_sends_results_to_a_file(sample: Any, run: Any, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = shell(
        run, sample.path, f"\\o {out}", "SELECT VALUE p.Name FROM Person AS p", "\\o", "SELECT VALUE 2 FROM Person",
        fmt="jsonl",
    )  # fmt: skip
    assert result.stdout == "2\n"
    assert result.stderr == f"Results go to {out}.\nResults go to the terminal.\n"
    assert out.read_text() == '"Raul"\n'


def test_o_unwritable(sample: Any, run: Any, tmp_path: Path) -> None:
    result = shell(run, sample.path, f"\\o {tmp_path}/no/such/dir/x")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {tmp_path}/no/such/dir/x: ")


def test_help_lists_every_meta_command(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\?")
    assert result.stdout.startswith("Meta-commands:\n  \\dt  ")
    listed = re.findall(r"^  (\\\S+)", result.stdout, re.M)
    assert listed == ["\\" + c.name for c in meta.commands()]
    assert shell(run, sample.path, "help").stdout == result.stdout


def test_q_stops_the_input(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\q", "SELECT * FROM Person")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    result = shell(run, sample.path, "BEGIN", "quit")
    assert result.exit_code == 0
    assert result.stderr.endswith("The open transaction was aborted: nothing was written.\n")


def test_unknown_meta_command(sample: Any, run: Any) -> None:
    result = shell(run, sample.path, "\\nope")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: unknown command \\nope (\\? lists the commands)\n",
    )


def test_every_meta_command_has_usage_and_help() -> None:
    for command in meta.commands():
        assert command.usage.startswith("\\" + command.name)
        assert command.help
