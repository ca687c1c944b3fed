"""Hints for the mistakes people bring from other databases.

- ``.tables`` / ``show tables`` (SQLite, MySQL): point at ``\\dt``;
- ``VALUES (…)`` (SQL rows): PartiQL inserts documents with ``VALUE {…}``;
- ``{VIN: 'x'}`` (bare struct keys): keys are strings, ``{'VIN': 'x'}``;
- an unknown table: "did you mean";
- a SELECT that found nothing while it names ``"double-quoted"`` text that is no table
  (PartiQL reads it as a name, not a string), or a field no sampled document has.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from ledger.cli import scanner

if TYPE_CHECKING:
    from ledger.database import Ledger

_DOT_COMMAND = re.compile(r"\s*\.(tables|schema|help|quit|exit|databases)\b", re.IGNORECASE)
_SHOW = re.compile(r"\s*(show|describe|desc)\s+(tables|databases)\b", re.IGNORECASE)
_UNKNOWN_TABLE = re.compile(r"unknown table (\S+)")
_VALUES_ROW = re.compile(r"\bVALUES\s*\(", re.IGNORECASE)
_BARE_KEY = re.compile(r"[{,]\s*([A-Za-z_][A-Za-z0-9_]*)\s*:")
_UNDEFINED = re.compile(r"undefined variable (\S+)")


def mistaken_command(text: str) -> str | None:
    """A message for another shell's command, or None."""
    if _DOT_COMMAND.match(text) or _SHOW.match(text):
        return (
            f"{text.strip()!r} is not a command here: \\dt lists the tables, "
            "\\d TABLE describes one, \\? lists the rest"
        )
    return None


def error_hint(message: str, statement: str, tables: list[str]) -> str | None:
    """A hint to add to a failed statement's error, or None."""
    unknown = _UNKNOWN_TABLE.search(message)
    if unknown:
        return did_you_mean(unknown.group(1).strip('"'), tables)
    if _VALUES_ROW.search(statement):
        return (
            "PartiQL inserts documents, not rows: INSERT INTO T VALUE {'field': 'value'} "
            "(or << {…}, {…} >> for several)"
        )
    undefined = _UNDEFINED.search(message)
    if undefined and undefined.group(1) in _BARE_KEY.findall(statement):
        key = undefined.group(1)
        return (
            f"struct keys are strings in PartiQL: write {{'{key}': …}}; a bare {key} is a "
            f"variable (Ion text with bare keys goes in backticks: `{{{key}: …}}`)"
        )
    return None


def did_you_mean(name: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        close = [c for c in choices if c.lower() == name.lower()]
    return f"did you mean {close[0]}?" if close else None


def empty_result_hints(statement: str, db: Ledger) -> list[str]:
    """Why a SELECT may have found nothing: a double-quoted string, or a mistyped field."""
    from ledger.cli.metadata import load_metadata

    metadata = load_metadata(db)
    hints = []
    for token in scanner.significant(statement):
        name = token.text[1:-1].replace('""', '"')
        if token.kind == scanner.QUOTED and token.closed and name not in metadata.tables:
            hints.append(
                f'"{name}" in double quotes is a name (of a field or table) in PartiQL, not a '
                f"string: strings take single quotes, '{name}'"
            )
    hints += _field_hints(statement, metadata.tables)
    return hints


def _field_hints(statement: str, tables: dict[str, Any]) -> list[str]:
    words = list(scanner.significant(statement))
    named = [t.text for t in words if t.kind == scanner.WORD and t.text in tables]
    known = {path.split(".")[0] for table in named for path in tables[table]}
    if not known:
        return []
    hints = []
    for i in range(2, len(words)):
        first_step = i < 3 or words[i - 3].text != "."  # alias.Field, not alias.Field.Sub
        token = words[i]
        if words[i - 1].text == "." and first_step and token.kind == scanner.WORD:
            if token.text in known or token.text in tables:
                continue
            guess = did_you_mean(token.text, sorted(known))
            if guess:
                hints.append(
                    f"no sampled document of {', '.join(named)} has a field {token.text}: {guess}"
                )
    return hints
