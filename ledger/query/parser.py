"""Statement text -> AST: lark's LALR parser over grammar.lark, then a transformer.

Syntax errors become ``ledger.errors.ParseError`` with the line, column, statement and
the tokens that would have fit, named as a person would write them.  Parsed statements
are cached by text, so re-running a statement with new parameters skips lark entirely.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from ledger.errors import Error, ParseError
from ledger.query import ast
from ledger.query.builder import Builder

CACHE_SIZE = 512


@dataclass(frozen=True)
class Parsed:
    """A parsed statement and how many `?` parameters it takes."""

    statement: ast.Statement
    param_count: int
    text: str


# Words that can never be a bare identifier (quote them: "select").  The contextual
# lexer would otherwise read `SELECT FROM t` as selecting a column named FROM; the
# others (FIRST, LAST, NULLS, LEADING, ...) only mean something in one spot.
RESERVED = frozenset(
    """
    ALL AND AS ASC AT BETWEEN BY CASE CAST CREATE CROSS DELETE DESC DISTINCT DROP ELSE
    END ESCAPE EXCEPT EXISTS FALSE FROM FULL GROUP HAVING IN INNER INSERT INTERSECT INTO
    IS JOIN LEFT LIKE LIMIT MISSING NOT NULL OFFSET ON OR ORDER OUTER PIVOT RIGHT SELECT
    SET TABLE THEN TRUE UNION UNPIVOT UPDATE VALUE WHEN WHERE WITH
    """.split()
)


def _reserved_word(token: Token) -> Token:
    upper = token.value.upper()
    if upper in RESERVED:
        return Token(
            upper,
            token.value,
            token.start_pos,
            token.line,
            token.column,
            token.end_line,
            token.end_column,
            token.end_pos,
        )
    return token


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("ledger.query").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        maybe_placeholders=False,
        lexer_callbacks={"IDENTIFIER": _reserved_word},
        cache=True,
    )


def parse(statement: str) -> ast.Statement:
    """The AST of one statement; raises ParseError (syntax) or NotSupportedError."""
    return parse_cached(statement).statement


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_cached(statement: str) -> Parsed:
    """Parse (memoized by text): the AST and its parameter count."""
    if not isinstance(statement, str):
        raise ParseError(f"statement must be a string, got {type(statement).__name__}")
    try:
        tree = _lark().parse(statement)
    except UnexpectedInput as exc:
        raise _parse_error(exc, statement) from None
    builder = Builder(statement)
    try:
        node = builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, Error):
            raise exc.orig_exc from None
        raise
    return Parsed(node, builder.param_count, statement)


# ---------------------------------------------------------------- errors

_TERMINAL_NAMES = {
    "IDENTIFIER": "identifier",
    "QUOTED_IDENTIFIER": "identifier",
    "STRING": "string",
    "ION": "Ion literal",
    "INT": "number",
    "DECIMAL": "number",
    "FLOAT": "number",
    "PARAM": "?",
    "$END": "end of statement",
}


def _display(terminal: str) -> str:
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    try:
        pattern = _lark().get_terminal(terminal).pattern
    except KeyError:
        return terminal
    if pattern.type == "str":
        return str(pattern.value).upper()
    return terminal


def _expected(names: set[str] | frozenset[str] | None) -> list[str]:
    shown = {_display(name) for name in names or ()}
    return sorted(shown, key=lambda s: (not s.isalpha() or s.islower(), s))


def _parse_error(exc: UnexpectedInput, statement: str) -> ParseError:
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    token = getattr(exc, "token", None)
    at_end = token is not None and token.type == "$END"
    if isinstance(exc, UnexpectedEOF) or at_end or line is None or line < 1:
        line, column = _end_position(statement)
    if isinstance(exc, UnexpectedCharacters):
        what = f"unexpected character {statement[exc.pos_in_stream or 0]!r}"
        expected = _expected(exc.allowed)
    elif isinstance(exc, UnexpectedEOF):
        what = "unexpected end of statement"
        expected = _expected(set(exc.expected))
    else:
        if token is None or at_end:
            what = "unexpected end of statement"
        else:
            what = f"unexpected {token.value!r}"
        expected = _expected(getattr(exc, "accepts", None) or getattr(exc, "expected", None))
    return ParseError(
        f"syntax error: {what}", statement=statement, line=line, column=column, expected=expected
    )


def _end_position(statement: str) -> tuple[int, int]:
    lines = statement.split("\n")
    return len(lines), len(lines[-1]) + 1
