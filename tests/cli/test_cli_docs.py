"""docs/shell.md must document every meta-command, output format and command."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.cli import meta
from ledger.cli.main import cli
from ledger.cli.output import FORMATS

DOC = Path(__file__).resolve().parents[2] / "docs" / "shell.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted({c.name for c in meta.commands()}))
def test_meta_command_is_documented(doc: str, name: str) -> None:
    assert f"| `\\{name}" in doc


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_is_documented(doc: str, fmt: str) -> None:
    assert f"| `{fmt}` |" in doc


@pytest.mark.parametrize("name", ["shell", "execute", "history", "tables"])
def test_command_is_documented(doc: str, name: str) -> None:
    assert name in cli.commands
    assert f"ledger {name}" in doc


@pytest.mark.parametrize("key", ["Enter", "Esc then Enter", "Tab", "Ctrl-R", "Ctrl-C", "Ctrl-D"])
def test_key_is_documented(doc: str, key: str) -> None:
    assert f"| {key}" in doc
