"""Where the shell keeps its files: ``$XDG_CONFIG_HOME/ledger`` (``~/.config/ledger``)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "ledger"


def config_dir() -> Path:
    """The ledger's config directory (not created)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP


def history_file() -> Path:
    """The shell's input history, created with its directory on first use."""
    path = config_dir() / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def color_enabled(stream_is_tty: bool) -> bool:
    """Colour output only on a terminal, and never when ``NO_COLOR`` is set."""
    return stream_is_tty and not os.environ.get("NO_COLOR")


def style_name() -> str:
    """The Pygments style for highlighting (``LEDGER_STYLE``, default ``default``)."""
    return os.environ.get("LEDGER_STYLE", "default")
