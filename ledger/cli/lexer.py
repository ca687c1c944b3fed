"""Pygments lexers: PartiQL statements (QLDB's dialect) and Ion text (results).

``PartiQLLexer`` is the SQL lexer taught PartiQL: its keywords (a field named
``status`` or ``name`` stays a name), backtick Ion literals, ``<< >>`` bags and ``?``
parameters.  ``IonLexer`` colours pretty-printed results: field names, strings,
numbers, timestamps, annotations, blobs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pygments.lexer import RegexLexer, inherit, words
from pygments.lexers.sql import SqlLexer
from pygments.token import (
    Comment,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from ledger.cli.keywords import FUNCTIONS, KEYWORDS, SHELL_KEYWORDS

_IDENT = r"[A-Za-z_$][A-Za-z0-9_$]*"


class PartiQLLexer(SqlLexer):
    """QLDB's PartiQL: SQL plus Ion literals, bags and parameters."""

    name = "PartiQL"
    aliases: ClassVar[list[str]] = ["partiql", "qldb"]
    filenames: ClassVar[list[str]] = ["*.partiql"]
    mimetypes: ClassVar[list[str]] = []

    tokens: ClassVar[dict[str, list[Any]]] = {
        "root": [
            (r"`", String.Backtick, "ion"),
            (r"<<|>>", Punctuation),
            (r"\?", Name.Variable),
            (r"\\\w+", Keyword.Pseudo),  # a meta-command
            (r"(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", Number.Float),
            (words(FUNCTIONS, suffix=r"(?=\s*\()"), Name.Builtin),
            (words(KEYWORDS + SHELL_KEYWORDS, suffix=r"\b"), Keyword),
            (_IDENT, Name),
            inherit,
        ],
        "ion": [
            (r"`", String.Backtick, "#pop"),
            (r'"(\\\\|\\"|[^"])*"', String.Double),
            (r"'(\\\\|\\'|[^'])*'", String.Symbol),
            (r"[^`\"']+", String.Backtick),
        ],
    }

    def __init__(self, **options: object) -> None:
        options.setdefault("stripnl", False)
        super().__init__(**options)


class IonLexer(RegexLexer):
    """Ion text, as ``output.ion_pretty`` writes it."""

    name = "Ion"
    aliases: ClassVar[list[str]] = ["ion"]
    filenames: ClassVar[list[str]] = ["*.ion"]
    mimetypes: ClassVar[list[str]] = []

    tokens: ClassVar[dict[str, list[Any]]] = {
        "root": [
            (r"\s+", Whitespace),
            (r"//.*?$", Comment.Single),
            (r"/\*.*?\*/", Comment.Multiline),
            (r"\{\{[^}]*\}\}", String.Other),  # blob / clob
            (rf"({_IDENT}|'(\\\\|\\'|[^'])*')(\s*)(::)", Name.Decorator),  # annotation
            (rf"({_IDENT}|'(\\\\|\\'|[^'])*'|\"(\\\\|\\\"|[^\"])*\")(\s*)(?=:)", Name.Attribute),
            (r'"(\\\\|\\"|[^"])*"', String.Double),
            (r"'''(.|\n)*?'''", String.Double),
            (r"'(\\\\|\\'|[^'])*'", String.Symbol),
            (r"\d{4}(-\d\d(-\d\d(T[0-9:.]*(Z|[+-]\d\d:\d\d)?)?)?)?T?", Literal.Date),
            (r"null(\.\w+)?\b|true\b|false\b|nan\b|[+-]inf\b", Keyword.Constant),
            (r"-?(0x[0-9a-fA-F_]+|0b[01_]+)", Number.Hex),
            (r"-?\d[\d_]*(\.[\d_]*)?[eE][+-]?\d+", Number.Float),
            (r"-?\d[\d_]*(\.[\d_]*)?([dD][+-]?\d+)?", Number),
            (_IDENT, Name.Constant),  # a symbol value
            (r"[{}\[\](),:]", Punctuation),
            (r"[^\s{}\[\](),:]+", Operator),  # sexp operators
            (r".", Text),
        ],
    }
