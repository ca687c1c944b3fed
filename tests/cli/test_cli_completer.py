"""Completion in context, and the background refresh that feeds it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

import ledger
from ledger.cli.completer import PartiQLCompleter, sources
from ledger.cli.metadata import Metadata, load_metadata
from ledger.cli.refresh import Refresher

META = Metadata(
    {
        "Vehicle": ("VIN", "Make", "Owner", "Owner.Name", "Owner.Id", "first name"),
        "Person": ("GovId", "Name"),
    }
)


def complete(text: str) -> list[str]:
    """Completions at the ``|`` in ``text`` (or at its end)."""
    cursor = text.index("|") if "|" in text else len(text)
    document = Document(text.replace("|", ""), cursor)
    completer = PartiQLCompleter(lambda: META)
    return [c.text for c in completer.get_completions(document, CompleteEvent())]


def test_table_names_after_from() -> None:
    assert complete("SELECT * FROM Veh") == ["Vehicle"]
    assert complete("SELECT * FROM ")[:2] == ["Person", "Vehicle"]
    assert "_ql_committed_Vehicle" in complete("SELECT * FROM _ql")


@pytest.mark.parametrize(
    "text", ["INSERT INTO P", "UPDATE P", "DROP TABLE P", "SELECT * FROM history(P"]
)
def test_table_names_in_other_clauses(text: str) -> None:
    assert complete(text) == ["Person"]


def test_fields_of_an_alias_even_when_defined_after_the_cursor() -> None:
    assert complete("SELECT v.| FROM Vehicle AS v") == ["VIN", "Make", "Owner", '"first name"']
    assert complete("SELECT * FROM Vehicle v, Person p WHERE p.G") == ["GovId"]


def test_nested_field_paths_step_by_step() -> None:
    assert complete("SELECT * FROM Vehicle AS v WHERE v.Owner.") == ["Name", "Id"]
    assert complete("SELECT * FROM Vehicle AS v WHERE v.Owner.N") == ["Name"]


def test_committed_view_and_history_have_metadata_fields() -> None:
    assert complete("SELECT h.metadata.| FROM history(Vehicle) AS h") == [
        "id",
        "version",
        "txTime",
        "txId",
    ]
    assert complete("SELECT c.data.V| FROM _ql_committed_Vehicle AS c") == ["VIN"]
    assert complete("SELECT * FROM information_schema.") == ["user_tables"]


def test_keywords_follow_the_case_typed() -> None:
    assert complete("sel") == ["select"]
    assert complete("SEL") == ["SELECT"]
    assert "COUNT" in complete("SELECT CO")


def test_fields_of_named_tables_come_before_keywords() -> None:
    offered = complete("SELECT M| FROM Vehicle")
    assert offered[0] == "Make"
    assert "MAX" in offered


def test_meta_commands_and_their_arguments() -> None:
    assert complete("\\d") == ["\\d", "\\digest", "\\dt"]
    assert complete("\\d V") == ["Vehicle"]
    assert complete("\\history P") == ["Person"]
    assert complete("\\format js") == ["json", "jsonl"]
    assert complete("\\q ") == []


def test_file_arguments_complete_paths(tmp_path: Path) -> None:
    (tmp_path / "setup.partiql").write_text("")
    assert complete(f"\\i {tmp_path}/se") == ["tup.partiql"]


def test_sources_ignore_strings_and_keywords() -> None:
    found = sources("SELECT * FROM Vehicle WHERE x = 'FROM Person AS p'")
    assert [(s.table, s.alias) for s in found] == [("Vehicle", None)]


def test_load_metadata_samples_active_tables(tmp_path: Path) -> None:
    with ledger.connect(tmp_path / "m.ledger") as db:
        db.execute("CREATE TABLE Gone")
        db.execute("DROP TABLE Gone")
        db.execute("CREATE TABLE Car")
        db.execute("INSERT INTO Car ?", {"VIN": "x", "Owner": {"Name": "Ann"}})
        assert load_metadata(db) == Metadata({"Car": ("VIN", "Owner", "Owner.Name")})


def test_refresh_runs_in_the_background_and_collapses_bursts() -> None:
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_loader(db: object) -> Metadata:
        calls.append(1)
        started.set()
        release.wait(5)
        return Metadata({"T": (f"f{len(calls)}",)})

    refresher = Refresher(None, slow_loader)  # type: ignore[arg-type]
    refresher.refresh()
    assert started.wait(5)
    assert refresher.metadata() == Metadata()  # the prompt goes on with what it has
    for _ in range(5):
        refresher.refresh()  # returns at once while the first read is blocked
    release.set()
    refresher.wait(5)
    assert len(calls) == 2  # the burst became one more read
    assert refresher.metadata() == Metadata({"T": ("f2",)})


def test_refresh_keeps_old_metadata_when_reading_fails() -> None:
    def broken(db: object) -> Metadata:
        raise ledger.InterfaceError("closed")

    refresher = Refresher(None, broken)  # type: ignore[arg-type]
    refresher.refresh()
    refresher.wait(5)
    assert refresher.metadata() == Metadata()
    assert isinstance(refresher.last_error, ledger.InterfaceError)
