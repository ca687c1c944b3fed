"""Highlighting: PartiQL statements as typed, Ion results as shown."""

from __future__ import annotations

from pygments.token import Keyword, Name, Number, Punctuation, String, Token

from ledger.cli.lexer import IonLexer, PartiQLLexer
from ledger.cli.printer import Printer


def kinds(lexer: object, text: str) -> list[tuple[object, str]]:
    return [(t, v) for t, v in lexer.get_tokens(text) if v.strip()]  # type: ignore[attr-defined]


def test_partiql_keywords_functions_names_and_parameters() -> None:
    tokens = kinds(PartiQLLexer(), "select count(*) from Vehicle as v where v.status = ?")
    assert tokens[0] == (Keyword, "select")
    assert (Name.Builtin, "count") in tokens
    assert (Name, "status") in tokens  # a field, though SQL calls STATUS a keyword
    assert (Name.Variable, "?") in tokens


def test_partiql_ion_literals_and_bags() -> None:
    tokens = kinds(PartiQLLexer(), 'INSERT INTO t << `{a: "x`y"}`, `2019T` >>')
    assert (Punctuation, "<<") in tokens and (Punctuation, ">>") in tokens
    assert (String.Double, '"x`y"') in tokens  # a backtick inside an Ion string
    assert (String.Backtick, "2019T") in tokens


def test_partiql_shell_words_and_meta_commands() -> None:
    assert kinds(PartiQLLexer(), "BEGIN")[0] == (Keyword, "BEGIN")
    assert kinds(PartiQLLexer(), "\\dt")[0] == (Keyword.Pseudo, "\\dt")


def test_ion_lexer_tells_fields_values_and_annotations_apart() -> None:
    tokens = kinds(
        IonLexer(),
        '{\n  VIN: "1N4",\n  t: 2019-06-05T,\n  a: x::{{aGk=}},\n  n: null.int,\n  d: 1.50\n}',
    )
    assert (Name.Attribute, "VIN") in tokens
    assert (String.Double, '"1N4"') in tokens
    assert (Token.Literal.Date, "2019-06-05T") in tokens
    assert (Name.Decorator, "x::") in tokens
    assert (String.Other, "{{aGk=}}") in tokens
    assert (Keyword.Constant, "null.int") in tokens
    assert (Number, "1.50") in tokens


def test_printer_colours_ion_only_when_asked(capsys: object) -> None:
    Printer(color=True).data('{\n  a: "x"\n}\n', "ion")
    Printer(color=False).data('{\n  a: "x"\n}\n', "ion")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    coloured, plain = out.split("}\n", 1)
    assert "\x1b[" in coloured
    assert plain == '{\n  a: "x"\n}\n'
