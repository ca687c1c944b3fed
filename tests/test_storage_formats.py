"""Ledgers written by earlier versions open, answer, verify and take writes.

tests/golden/ledger-format2.tar.gz is a ledger written by the format 2 code (commit
f82c2d4; tests/golden/make_ledger_format2.py made it and its answers,
ledger-format2.json): blocks stored whole-envelope (format bytes 0x01, 0x02), no shared
part prefixes, no chunks.  Format 3 code reads it as it is, and writes new blocks in
its own layout next to the old ones.  ~2 s.
"""

from __future__ import annotations

import importlib.util
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.journal.journal import FORMAT_VERSION
from ledger.proof.export import import_export
from ledger.storage import layout

GOLDEN = Path(__file__).parent / "golden"


def _maker() -> Any:
    spec = importlib.util.spec_from_file_location("make_ledger_format2", GOLDEN / "make_ledger_format2.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = _maker()
EXPECTED = json.loads((GOLDEN / "ledger-format2.json").read_text())


@pytest.fixture
def format2(tmp_path: Path) -> Path:
    path = tmp_path / "old"
    path.mkdir()
    with tarfile.open(GOLDEN / "ledger-format2.tar.gz") as tar:
        tar.extractall(path, filter="data")
    return path


def _format_bytes(db: Any) -> list[int]:
    txn = db.journal.store.read()
    try:
        return [raw[0] for _, raw in txn.range("blocks")]
    finally:
        txn.close()


def test_a_format_2_ledger_answers_as_it_did_and_verifies_read_only(format2: Path) -> None:
    with ledger.connect(format2, readonly=True) as db:
        assert db.journal.meta()["format"] == EXPECTED["format"] == "2"
        assert set(_format_bytes(db)) == {layout.PARTS_FORMAT, layout.ZLIB_ENVELOPE}
        assert MAKER.answers(db) == {k: v for k, v in EXPECTED.items() if k != "format"}
        report = db.verify()
        assert report.verified, report.failure
        tip = db.digest().tip
        for seq in range(tip.sequence_no + 1):
            block, proof = db.get_block(seq, tip.sequence_no)
            assert block["blockAddress"]["sequenceNo"] == seq and proof is not None


def test_a_format_2_ledger_takes_writes_in_format_3_and_still_verifies(format2: Path, tmp_path: Path) -> None:
    with ledger.connect(format2) as db:
        assert db.journal.meta()["format"] == str(FORMAT_VERSION) == "3"
        db.execute("INSERT INTO Vehicle ?", [MAKER.doc(i) for i in range(100, 140)])
        db.execute("UPDATE Vehicle SET Year = 1999 WHERE VIN = 'VIN00005'")  # a row of format 2
        db.execute("DELETE FROM Vehicle WHERE VIN = 'VIN00006'")
        formats = _format_bytes(db)
        assert set(formats[: EXPECTED["tip"] + 1]) == {layout.PARTS_FORMAT, layout.ZLIB_ENVELOPE}
        assert set(formats[EXPECTED["tip"] + 1 :]) == {layout.SHARED_PARTS, layout.SHARED_ZLIB}
        assert [r["Year"] for r in db.execute("SELECT * FROM Vehicle WHERE VIN = 'VIN00005'")] == [1999]
        assert [r["VIN"] for r in db.execute("SELECT * FROM Vehicle WHERE VIN = 'VIN00120'")] == ["VIN00120"]
        assert len(list(db.execute("SELECT * FROM Vehicle"))) == 42 + 40 - 1
        old_history = set(EXPECTED["history"])
        assert old_history <= set(MAKER.answers(db)["history"])
        report = db.verify()
        assert report.verified, report.failure
        digest = db.digest()
        db.export(tmp_path / "export")
    copy = tmp_path / "imported"
    import_export(tmp_path / "export", copy)
    with ledger.connect(copy, readonly=True) as db:
        assert db.digest().digest == digest.digest
        assert set(_format_bytes(db)) <= {layout.SHARED_PARTS, layout.SHARED_ZLIB}
        assert db.verify().verified
