"""The "is this input complete?" rule, and splitting input into statements.

A statement runs on ``;`` or, in the shell, on Enter once its brackets, ``<< >>``,
quotes and backtick Ion literals are all closed.  A line starting with a backslash
is a meta-command and is complete on its own.
"""

from __future__ import annotations

from ledger.cli import scanner
from ledger.cli.scanner import CLOSERS, OPENERS, PUNCT


def is_complete(text: str) -> bool:
    """Whether Enter should run ``text`` rather than start a new line."""
    stripped = text.strip()
    if not stripped or stripped.startswith("\\"):
        return True
    depth = 0
    last = None
    for token in scanner.significant(text):
        if not token.closed:
            return False
        if token.kind == PUNCT and token.text in OPENERS:
            depth += 1
        elif token.kind == PUNCT and token.text in CLOSERS:
            depth -= 1
        last = token
    ends_with_semicolon = last is not None and last.kind == PUNCT and last.text == ";"
    return ends_with_semicolon or depth <= 0


def split_statements(text: str) -> list[str]:
    """The statements and meta-commands in ``text``, in order, without their ``;``.

    A meta-command runs to the end of its line; comment-only pieces are dropped.
    """
    pieces: list[str] = []
    current: list[str] = []
    pos = 0
    for token in scanner.tokens(text):
        if token.start < pos:
            continue  # inside a meta-command line already taken
        if token.text == "\\" and not _has_content("".join(current)):
            end = text.find("\n", token.start)
            end = len(text) if end < 0 else end
            pieces.append(text[token.start : end].strip())
            current, pos = [], end
            continue
        if token.kind == PUNCT and token.text == ";":
            pieces.append("".join(current))
            current = []
            continue
        current.append(token.text)
    pieces.append("".join(current))
    return [p.strip() for p in pieces if _has_content(p)]


def _has_content(text: str) -> bool:
    return any(True for _ in scanner.significant(text))
