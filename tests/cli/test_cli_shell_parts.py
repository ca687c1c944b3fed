"""The shell's smaller parts: prompt, toolbar, banner, config paths, pager, key bindings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

import ledger
from ledger.cli import config, printer, shell
from ledger.cli.keys import shell_bindings
from ledger.cli.options import ledger_name
from ledger.cli.printer import Printer
from ledger.cli.session import Session, Settings


def test_history_lives_under_xdg_config_home(user_config: Path) -> None:
    assert config.history_file() == user_config / "ledger" / "history"
    assert (user_config / "ledger").is_dir()


def test_history_falls_back_to_dot_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.config_dir() == tmp_path / ".config" / "ledger"


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not config.color_enabled(True)  # the fixture sets NO_COLOR
    monkeypatch.delenv("NO_COLOR")
    assert config.color_enabled(True)
    assert not config.color_enabled(False)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (":memory:", "memory"),
        ("/data/vehicles.ledger", "vehicles"),
        ("cars/", "cars"),
        (".ledger", ".ledger"),
    ],
)
def test_ledger_name(path: str, name: str) -> None:
    assert ledger_name(path) == name


def test_prompt_and_toolbar_show_the_transaction() -> None:
    with ledger.connect(":memory:") as db:
        session = Session(db, Settings())
        assert "".join(t[1] for t in shell.prompt_message(session, "cars")) == "cars> "
        assert "auto-commit" in "".join(t[1] for t in shell.toolbar(session))
        session.begin()
        assert (
            "".join(t[1] for t in shell.prompt_message(session, "cars")) == "cars (transaction)> "
        )
        assert "transaction open: COMMIT or ABORT" in "".join(t[1] for t in shell.toolbar(session))
        session.abort()


def test_banner_names_the_tables() -> None:
    with ledger.connect(":memory:") as db:
        assert shell.banner(Session(db), "x").startswith(
            f"ledger {ledger.__version__} on x (0 tables)\n"
        )
        db.execute("CREATE TABLE Car")
        assert "(1 table: Car)" in shell.banner(Session(db), "x")


def test_long_results_go_through_the_pager(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    paged: list[str] = []
    monkeypatch.setattr(click, "echo_via_pager", lambda text, color=None: paged.append(text))
    monkeypatch.setattr(printer.shutil, "get_terminal_size", lambda: os.terminal_size((80, 10)))
    out = Printer(interactive=True, pager=True)
    out.data("short\n")
    out.data("line\n" * 20)
    Printer(interactive=False, pager=True).data("line\n" * 20)  # never in scripts
    assert paged == ["line\n" * 20]
    assert capsys.readouterr().out == "short\n" + "line\n" * 20


def read_input(keys: str) -> str:
    """What a prompt with the shell's key bindings returns after ``keys`` are typed."""
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        prompt: PromptSession[str] = PromptSession(
            key_bindings=shell_bindings(), multiline=True, input=pipe, output=DummyOutput()
        )
        return prompt.prompt()


@pytest.mark.parametrize(
    ("keys", "text"),
    [
        ("SELECT * FROM t\r", "SELECT * FROM t"),
        ("SELECT * FROM t WHERE x IN (1,\r2)\r", "SELECT * FROM t WHERE x IN (1,\n2)"),
        ("INSERT INTO t << {'a': 1},\r{'a': 2} >>\r", "INSERT INTO t << {'a': 1},\n{'a': 2} >>"),
        ("SELECT 'a\rb' FROM t\r", "SELECT 'a\nb' FROM t"),
        ("SELECT *\x1b\rFROM t\r", "SELECT *\nFROM t"),  # Esc+Enter: a new line
        ("SELECT (1;\r", "SELECT (1;"),  # ; runs it regardless
        ("\\d (\r", "\\d ("),  # meta-commands end at the line
    ],
)
def test_enter_runs_complete_input_only(keys: str, text: str) -> None:
    assert read_input(keys) == text
