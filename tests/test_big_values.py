"""Values of every size the ledger accepts pass every path that reads Ion text.

amazon.ion's C text reader refuses a string, symbol, blob or clob of more than 16 KiB
by default (IERR_BUFFER_TOO_SMALL, IERR_TOKEN_TOO_LONG, IERR_LOOKAHEAD_OVERFLOW): a
default (Ion text) export of an ordinary 20 KB document then failed verification at
that block and refused to import.  Each path is tried with documents at QLDB's
document size limit (128 KiB of Ion binary, Limits.document_size), long strings,
blobs, symbols and nesting as deep as the ledger allows.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPySymbol
from click.testing import CliRunner

import ledger
from ledger import ion
from ledger.cli.main import cli
from ledger.journal.limits import Limits
from ledger.proof import export
from ledger.proof.export import import_export, verify_export

LIMIT = Limits().document_size  # 128 KiB, QLDB's document size limit


def _at_limit(make: Any) -> Any:
    """make(n) for the largest n whose Ion binary fits the document size limit exactly."""
    base = len(ion.dumps(make(0)))
    n = LIMIT - base
    while len(ion.dumps(make(n))) > LIMIT:
        n -= 1
    doc = make(n)
    assert LIMIT - 8 <= len(ion.dumps(doc)) <= LIMIT
    return doc


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"n": value}
    return value


def _symbol(text: str) -> IonPySymbol:
    return IonPySymbol.from_value(IonType.SYMBOL, text)


DOCUMENTS = {
    "string at the limit": _at_limit(lambda n: {"s": "x" * n}),
    "non-ASCII string": {"s": "é" * 30_000},
    "blob at the limit": _at_limit(lambda n: {"b": b"\x00\xff" * (n // 2)}),
    "symbol of 40 KB": {"y": _symbol("s" * 40_000)},
    "long field name": {"f" * 20_000: 1},
    "deep nesting": {"deep": _nested(98), "s": "z" * 20_000},
}


@pytest.fixture(scope="module")
def big_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.ledger"
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE Big")
        for doc in DOCUMENTS.values():
            db.execute("INSERT INTO Big ?", doc)
    return path


def _stored(path: Path) -> list[Any]:
    with ledger.connect(path, readonly=True) as db:
        return sorted((ion.dumps(r) for r in db.execute("SELECT * FROM Big")), key=len)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_ion_text_of_every_document_reads_back(name):
    doc = DOCUMENTS[name]
    text = ion.dumps_text(doc)
    assert len(text) > ion.TEXT_READER_DEFAULT
    assert ion.dumps(ion.loads(text)) == ion.dumps(doc)
    assert [ion.dumps(v) for v in ion.loads_all(text + " " + text)] == [ion.dumps(doc)] * 2
    assert ion.dumps(ion.loads_document(text.encode("utf-8"))) == ion.dumps(doc)


@pytest.mark.parametrize("fmt", ["ion_text", "ion_binary", "json"])
def test_export_verify_and_import_keep_big_documents(big_ledger, tmp_path, fmt):
    with ledger.connect(big_ledger, readonly=True) as db:
        result = export.export(db.journal, tmp_path / "x", fmt=fmt)
    report = verify_export(tmp_path / "x")
    assert report.verified, report.failure
    assert report.last == result.last
    if fmt == "json":
        return  # JSON Lines loses Ion types: it cannot be imported (documented)
    copy = import_export(tmp_path / "x", tmp_path / "copy.ledger")
    assert _stored(Path(copy)) == _stored(big_ledger)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_cli_parameter_takes_big_documents(tmp_path, name):
    doc = DOCUMENTS[name]
    path = tmp_path / "p.ledger"
    runner = CliRunner()
    args = ["execute", str(path), "CREATE TABLE T"]
    assert runner.invoke(cli, args, catch_exceptions=False).exit_code == 0
    result = runner.invoke(
        cli, ["execute", str(path), "INSERT INTO T ?", ion.dumps_text(doc)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    with ledger.connect(path, readonly=True) as db:
        (row,) = db.execute("SELECT * FROM T")
    assert ion.dumps(row) == ion.dumps(doc)


@pytest.mark.parametrize(
    "literal, expected",
    [
        ('"' + "q" * 90_000 + '"', "q" * 90_000),
        ("'" + "y" * 60_000 + "'", "y" * 60_000),
        ("{{" + base64.b64encode(b"\x01" * 60_000).decode() + "}}", b"\x01" * 60_000),
        ("{{'''" + "c" * 60_000 + "'''}}", b"c" * 60_000),
    ],
    ids=["string", "symbol", "blob", "clob"],
)
def test_backtick_literals_of_any_size(literal, expected):
    with ledger.connect(":memory:") as db:
        db.execute("CREATE TABLE T")
        db.execute(f"INSERT INTO T VALUE {{'v': `{literal}`}}")
        (value,) = db.execute("SELECT VALUE t.v FROM T AS t")
    got = value.text if hasattr(value, "text") and not isinstance(value, str) else value
    assert (bytes(got) if isinstance(expected, bytes) else str(got)) == expected
