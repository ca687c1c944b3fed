"""Fixtures for the command line tests: isolated user config, a runner, a small ledger."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import ledger
from ledger.cli.main import cli


@pytest.fixture(autouse=True)
def user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own XDG_CONFIG_HOME, no colour and the default style."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("LEDGER_STYLE", raising=False)
    monkeypatch.delenv("LEDGER_DEBUG", raising=False)
    return home


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@dataclass
class Sample:
    """A ledger on disk with two tables, and the ids the tests need to predict output."""

    path: Path
    strand: str = ""
    tables: dict[str, str] = field(default_factory=dict)  # name -> tableId
    docs: dict[str, str] = field(default_factory=dict)  # VIN / GovId -> documentId
    index: str = ""  # the indexId on Vehicle.VIN

    def normalise(self, text: str) -> str:
        """Replace this ledger's ids by names, other ids, hashes and times by placeholders."""
        names = {self.strand: "<strand>", self.index: "<index>"}
        names.update({v: f"<{k}>" for k, v in self.tables.items()})
        names.update({v: f"<{k}>" for k, v in self.docs.items()})
        for known, label in names.items():
            text = text.replace(known, label)
        text = re.sub(r"\{\{[A-Za-z0-9+/=]+\}\}", "{{<hash>}}", text)
        text = re.sub(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=", "<hash>", text)  # bare base64
        text = re.sub(r"(?<![A-Za-z0-9+/])[0-9A-Za-z]{22}(?![A-Za-z0-9+/=])", "<id>", text)
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<time>", text)


VEHICLES = [
    {"VIN": "1N4AL11D75C109151", "Make": "Volkswagen", "Year": 2011, "Owner": {"Name": "Raul"}},
    {"VIN": "KM8SRDHF6EU074761", "Make": "Tesla", "Year": 2015},
]


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[Sample]:
    """Vehicle (index on VIN, 2 documents) and Person (1 document)."""
    info = Sample(tmp_path / "cars.ledger")
    with ledger.connect(info.path) as db:
        info.strand = db.strand_id
        for name in ("Vehicle", "Person"):
            info.tables[name] = str(db.execute(f"CREATE TABLE {name}").one()["tableId"])
        db.execute("CREATE INDEX ON Vehicle (VIN)")
        for doc in VEHICLES:
            row = db.execute("INSERT INTO Vehicle ?", doc).one()
            info.docs[str(doc["VIN"])] = str(row["documentId"])
        row = db.execute("INSERT INTO Person ?", {"GovId": "LEWISR261LL", "Name": "Raul"}).one()
        info.docs["LEWISR261LL"] = str(row["documentId"])
        with db.transaction() as tx:
            info.index = tx.table("Vehicle").indexes[0].index_id  # type: ignore[union-attr]
    yield info


@pytest.fixture
def run(runner: CliRunner) -> Callable[..., Result]:
    """``run("tables", path, input=None)``: ``ledger ARGS`` in-process, stdout and stderr apart."""

    def invoke(*args: str | Path, input: str | None = None) -> Result:
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke
