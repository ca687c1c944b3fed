"""A forgiving tokenizer for statement text, shared by the input rules and the classifier.

It knows only what the shell needs before the real parser sees a statement: where
strings, quoted identifiers, backtick Ion literals and ``--`` comments begin and end,
and which brackets (``( [ {`` and ``<< >>``) are open.  It never fails: an
unterminated string or literal comes back as a token marked ``closed=False``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

WORD = "word"
STRING = "string"  # '...'
QUOTED = "quoted"  # "..." (an identifier)
ION = "ion"  # `...`
COMMENT = "comment"  # -- to the end of the line
SPACE = "space"
PUNCT = "punct"  # everything else, one token per character (<< and >> as one)

OPENERS = {"(": ")", "[": "]", "{": "}", "<<": ">>"}
CLOSERS = {v: k for k, v in OPENERS.items()}

_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    closed: bool = True


def tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text``, in order, covering it completely."""
    pos = 0
    while pos < len(text):
        token = _next_token(text, pos)
        yield token
        pos += len(token.text)


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char == "'":
        return _quoted(text, pos, "'", STRING)
    if char == '"':
        return _quoted(text, pos, '"', QUOTED)
    if char == "`":
        return _ion(text, pos)
    if text.startswith("--", pos):
        end = text.find("\n", pos)
        return Token(COMMENT, text[pos:] if end < 0 else text[pos:end], pos)
    for pattern, kind in ((_SPACE, SPACE), (_WORD, WORD)):
        match = pattern.match(text, pos)
        if match:
            return Token(kind, match.group(), pos)
    if text.startswith(("<<", ">>"), pos):
        return Token(PUNCT, text[pos : pos + 2], pos)
    return Token(PUNCT, char, pos)


def _quoted(text: str, pos: int, quote: str, kind: str) -> Token:
    """A SQL-style quoted run: the quote doubled inside stands for itself."""
    i = pos + 1
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                i += 2
                continue
            return Token(kind, text[pos : i + 1], pos)
        i += 1
    return Token(kind, text[pos:], pos, closed=False)


def _ion(text: str, pos: int) -> Token:
    """A backtick Ion literal; quotes inside it (Ion strings and symbols) may hold a backtick."""
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == "`":
            return Token(ION, text[pos : i + 1], pos)
        if char in "\"'":
            i = _skip_ion_string(text, i, char)
            continue
        i += 1
    return Token(ION, text[pos:], pos, closed=False)


def _skip_ion_string(text: str, i: int, quote: str) -> int:
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return i


def significant(text: str) -> Iterator[Token]:
    """The tokens that carry meaning: no whitespace, no comments."""
    return (t for t in tokens(text) if t.kind not in (SPACE, COMMENT))


def words_at_depth_zero(text: str) -> list[str]:
    """Upper-cased bare words outside every bracket (the statement's own clauses)."""
    depth = 0
    found = []
    for token in significant(text):
        if token.kind == PUNCT and token.text in OPENERS:
            depth += 1
        elif token.kind == PUNCT and token.text in CLOSERS:
            depth = max(depth - 1, 0)
        elif token.kind == WORD and depth == 0:
            found.append(token.text.upper())
    return found
