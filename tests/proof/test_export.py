"""Journal export in QLDB's format, verify-export, and import: the round trip keeps
every hash (same digest, proofs and saved digests still verify), broken exports are
refused naming the first bad block, and a QLDB-style export (system-table revisions
as bare hashes, four-entry entriesHashLists, no catalog revisions) imports too."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from proofkit import verify_path

import ledger
from ledger import ion
from ledger.errors import DataError, VerificationError
from ledger.hashing import dot, ion_hash, merkle_root, revision_hash
from ledger.proof import export, proofs, signing
from ledger.proof.export import import_export, verify_export


@pytest.fixture
def exported(base_ledger, tmp_path):
    path, ids = base_ledger
    with ledger.connect(path, readonly=True) as db:
        result = export.export(db.journal, tmp_path / "export", blocks_per_file=4)
        digest = db.digest()
    return path, ids, result, digest


def _data_files(result) -> list[Path]:
    return [Path(result.directory) / key for key in result.keys]


def test_export_layout_and_manifests(exported):
    _, _, result, digest = exported
    folder = Path(result.directory)
    started = ion.loads((folder / f"{result.export_id}.started.manifest").read_bytes())
    assert set(started) == {
        "ledgerName",
        "exportId",
        "inclusiveStartTime",
        "exclusiveEndTime",
        "bucket",
        "prefix",
        "objectEncryptionType",
        "outputFormat",
    }
    assert started["outputFormat"] == "ION_TEXT" and started["exportId"] == result.export_id
    completed = ion.loads(
        (folder / f"{result.export_id}.{result.strand_id}.completed.manifest").read_bytes()
    )
    assert list(completed["keys"]) == result.keys
    assert (result.first, result.last) == (0, digest.tip.sequence_no)
    seqs = []
    for path in _data_files(result):
        blocks = ion.loads_all(path.read_bytes())
        first, last = path.name.rsplit(".", 1)[0].split(".")[-1].split("-")
        assert path.name.startswith(result.strand_id)
        assert [b["blockAddress"]["sequenceNo"] for b in blocks] == list(
            range(int(first), int(last) + 1)
        )
        assert len(blocks) <= 4
        seqs += [b["blockAddress"]["sequenceNo"] for b in blocks]
    assert seqs == list(range(digest.tip.sequence_no + 1))


@pytest.mark.parametrize("fmt", ["ion_text", "ion_binary"])
def test_export_import_keeps_the_digest_and_verifies(base_ledger, tmp_path, fmt):
    path, ids = base_ledger
    with ledger.connect(path, readonly=True) as db:
        export.export(db.journal, tmp_path / "x", fmt=fmt)
        digest = db.digest()
        txn = db.journal.store.read()
        block, proof = proofs.get_block(db.journal, txn, 3, digest.tip.sequence_no)
        txn.close()
    report = verify_export(tmp_path / "x")
    assert report.verified and report.digest == digest.digest, report.failure
    imported = import_export(tmp_path / "x", tmp_path / "imported.ledger")
    with ledger.connect(imported) as db:
        assert db.digest() == digest
        assert db.strand_id == digest.tip.strand_id
        txn = db.journal.store.read()
        assert proofs.get_block(db.journal, txn, 3, digest.tip.sequence_no)[1] == proof
        txn.close()
        with db.transaction() as tx:
            assert {t.name for t in tx.tables()} == {"A", "B"}
            assert len(list(tx.scan(ids["A"]))) == len(ids["live"][ids["A"]])
    saved = signing.SavedDigest(digest.digest, digest.tip)
    report = verify_path(Path(imported), saved_digest=saved)
    assert report.verified, report.failure


def test_saved_digest_from_before_the_export_verifies_the_export(exported, tmp_path):
    _, _, result, digest = exported
    saved = signing.SavedDigest(digest.digest, digest.tip)
    assert verify_export(result.directory, saved_digest=saved).verified
    wrong = signing.SavedDigest(bytes(32), digest.tip)
    report = verify_export(result.directory, saved_digest=wrong)
    assert not report.verified and report.block == digest.tip.sequence_no


def test_json_export_is_checked_partly_and_never_imported(base_ledger, tmp_path):
    path, _ = base_ledger
    with ledger.connect(path, readonly=True) as db:
        result = export.export(db.journal, tmp_path / "j", fmt="json")
        digest = db.digest()
    first = _data_files(result)[0]
    assert first.suffix == ".json"
    line = json.loads(first.read_text().splitlines()[0])
    assert line["blockAddress"]["sequenceNo"] == 0 and isinstance(line["blockHash"], str)
    report = verify_export(tmp_path / "j")
    assert report.verified and report.digest == digest.digest
    assert any("JSON" in note for note in report.notes)
    with pytest.raises(DataError, match="JSON"):
        import_export(tmp_path / "j", tmp_path / "never.ledger")
    assert not (tmp_path / "never.ledger").exists()


def test_time_ranged_export_verifies_without_block_zero(tmp_path):
    with ledger.connect(tmp_path / "l") as db:
        with db.transaction() as tx:
            table = tx.create_table("T")
        import time

        time.sleep(0.01)
        middle = dt.datetime.now(dt.UTC)
        time.sleep(0.01)
        for i in range(5):
            with db.transaction() as tx:
                tx.insert(table, {"i": i})
        time.sleep(0.01)
        end = dt.datetime.now(dt.UTC)
        with db.transaction() as tx:
            tx.insert(table, {"after": True})
        result = export.export(db.journal, tmp_path / "r", start=middle, end=end)
    assert (result.first, result.last) == (1, 5)
    report = verify_export(tmp_path / "r")
    assert report.verified and (report.first, report.last, report.blocks) == (1, 5, 5)
    assert report.digest is None
    with pytest.raises(DataError, match="block 0"):
        import_export(tmp_path / "r", tmp_path / "no.ledger")


def test_export_needs_an_empty_directory(base_ledger, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with ledger.connect(base_ledger[0], readonly=True) as db:
        with pytest.raises(DataError, match="empty directory"):
            export.export(db.journal, tmp_path / "full")
        with pytest.raises(DataError, match="format"):
            export.export(db.journal, tmp_path / "new", fmt="csv")


# -- broken exports ----------------------------------------------------------------------------------
def _lines(path: Path) -> list[str]:
    """The Ion text of each block of an ION_TEXT data object (blocks are space-separated)."""
    return [ion.dumps_text(block) for block in ion.loads_all(path.read_bytes())]


def _refused(folder: Path, tmp_path: Path, block: int | None, match: str) -> None:
    report = verify_export(folder)
    assert not report.verified and report.block == block, report
    assert match in report.failure
    target = tmp_path / "refused.ledger"
    with pytest.raises((VerificationError, DataError), match=match):
        import_export(folder, target)
    assert not target.exists()


def test_changed_block_is_refused_by_name(exported, tmp_path):
    _, _, result, _ = exported
    path = _data_files(result)[1]  # blocks 4..7
    lines = _lines(path)
    block = ion.loads(lines[2])
    block["revisions"][0]["metadata"]["version"] = 77
    lines[2] = ion.dumps_text(block)
    path.write_text("\n".join(lines) + "\n")
    _refused(Path(result.directory), tmp_path, 6, "revision hash")


def test_reordered_blocks_are_refused(exported, tmp_path):
    _, _, result, _ = exported
    path = _data_files(result)[1]
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("\n".join(lines) + "\n")
    _refused(Path(result.directory), tmp_path, 5, "not consecutive")


def test_dropped_block_is_refused(exported, tmp_path):
    _, _, result, _ = exported
    path = _data_files(result)[1]
    path.write_text("\n".join(_lines(path)[:-1]) + "\n")
    _refused(Path(result.directory), tmp_path, 4, "holds 3 blocks")


def test_dropped_data_object_and_truncated_file(exported, tmp_path):
    _, _, result, _ = exported
    folder = Path(result.directory)
    manifest = folder / f"{result.export_id}.{result.strand_id}.completed.manifest"
    keys = list(result.keys)
    manifest.write_text(ion.dumps_text({"keys": [keys[0], *keys[2:]]}))
    _refused(folder, tmp_path, 4, "does not continue")
    manifest.write_text(ion.dumps_text({"keys": keys}))
    path = _data_files(result)[2]
    path.write_bytes(path.read_bytes()[:-40])
    report = verify_export(folder)
    assert not report.verified and report.key == result.keys[2]
    _data_files(result)[3].unlink()
    with pytest.raises(DataError, match="missing"):
        import_export(folder, tmp_path / "y.ledger")


def test_hashes_turned_into_strings_are_damage_not_json(exported, tmp_path):
    _, _, result, _ = exported
    path = _data_files(result)[0]
    lines = _lines(path)
    block = ion.loads(lines[1])
    block["blockHash"] = base64.b64encode(bytes(block["blockHash"])).decode()
    lines[1] = ion.dumps_text(block)
    path.write_text("\n".join(lines) + "\n")
    _refused(Path(result.directory), tmp_path, 1, "blob")


def test_manifest_keys_cannot_leave_the_export(exported, tmp_path):
    _, _, result, _ = exported
    folder = Path(result.directory)
    manifest = folder / f"{result.export_id}.{result.strand_id}.completed.manifest"
    manifest.write_text(ion.dumps_text({"keys": ["../../outside.0-1.ion"]}))
    assert "outside" in verify_export(folder).failure


def test_import_refuses_an_existing_ledger(exported, tmp_path):
    _, _, result, _ = exported
    (tmp_path / "there").mkdir()
    (tmp_path / "there" / "data.mdb").write_text("")
    with pytest.raises(DataError, match="already exists"):
        import_export(result.directory, tmp_path / "there")


# -- a QLDB-style export --------------------------------------------------------------------------
VEHICLES, DOC = "BFJKdXgzt9oF4wjMbuxy4G", "JUJgkIcNbhS2goq8RqLuZ4"
STEPS = [  # (tableId, documentId, version, data) of each block's one user revision
    (VEHICLES, DOC, 0, {"VIN": "1N4AL11D75C109151", "Owner": "Raul"}),
    (VEHICLES, DOC, 1, {"VIN": "1N4AL11D75C109151", "Owner": "Ann"}),
    (VEHICLES, DOC, 2, None),
]


def _qldb_blocks(strand: str, steps=STEPS) -> list[dict]:
    """Blocks shaped as QLDB writes them: opaque system revisions, four-entry lists."""
    start = dt.datetime(2019, 9, 16, 19, 37, 5, tzinfo=dt.UTC)
    blocks, previous = [], b""
    for seq, (table_id, doc_id, version, value) in enumerate(steps):
        tx_id = f"TX{seq:020d}"
        stamp = ion.timestamp_ms(start + dt.timedelta(seconds=seq))
        metadata = {"id": doc_id, "version": version, "txTime": stamp, "txId": tx_id}
        user = {
            "blockAddress": {"strandId": strand, "sequenceNo": seq},
            "hash": revision_hash(metadata, value),
            "metadata": metadata,
        }
        if value is not None:
            user["data"] = value
        opaque = {"hash": hashlib.sha256(b"system %d" % seq).digest()}
        statement = {
            "statement": "UPDATE ...",
            "startTime": stamp,
            "statementDigest": ion_hash("UPDATE ..."),
        }
        documents = {
            doc_id: {"tableName": "VehicleRegistration", "tableId": table_id, "statements": [0]}
        }
        info = {"statements": [statement], "documents": documents}
        entries = [
            hashlib.sha256(b"internal %d" % seq).digest(),
            ion_hash(info),
            merkle_root([opaque["hash"], user["hash"]]),
            hashlib.sha256(b"other").digest(),
        ]
        entries_hash = merkle_root(entries)
        block = {
            "blockAddress": {"strandId": strand, "sequenceNo": seq},
            "transactionId": tx_id,
            "blockTimestamp": stamp,
            "blockHash": dot(entries_hash, previous),
            "entriesHash": entries_hash,
            "entriesHashList": entries,
            "transactionInfo": info,
            "revisions": [opaque, user],
        }
        if previous:
            block["previousBlockHash"] = previous
        blocks.append(block)
        previous = block["blockHash"]
    return blocks


def _write_qldb_export(folder: Path, blocks: list[dict], strand: str) -> None:
    (folder / "2019/09/16/19").mkdir(parents=True)
    last = len(blocks) - 1
    (folder / "2019/09/16/19" / f"{strand}.0-{last}.ion").write_text(
        "\n".join(ion.dumps_text(b) for b in blocks)
    )
    (folder / f"EXPORTID00000000000001.{strand}.completed.manifest").write_text(
        ion.dumps_text({"keys": [f"journalExport/2019/09/16/19/{strand}.0-{last}.ion"]})
    )


def test_qldb_style_export_imports_with_tables_from_transaction_info(tmp_path):
    strand = "KmA3ZZca7vAIiJAK9S5Iwl"
    blocks = _qldb_blocks(strand)
    _write_qldb_export(tmp_path / "q", blocks, strand)
    assert verify_export(tmp_path / "q").verified
    imported = import_export(tmp_path / "q", tmp_path / "q.ledger")
    with ledger.connect(imported) as db:
        assert db.digest().digest == merkle_root([b["blockHash"] for b in blocks])
        with db.transaction() as tx:
            table = tx.table("VehicleRegistration")
            assert table is not None and table.table_id == VEHICLES
            assert list(tx.scan(table.table_id)) == []  # deleted in block 2
            history = list(tx.history(table.table_id, None, None))
            assert [r["metadata"]["version"] for r in history] == [0, 1, 2]
        txn = db.journal.store.read()
        revision, proof = proofs.get_revision(db.journal, txn, 1, "JUJgkIcNbhS2goq8RqLuZ4", 2)
        txn.close()
        from ledger.proof.verify import check_revision_proof

        check_revision_proof(revision, proof, db.digest().digest)
    assert verify_path(Path(imported)).verified


def test_qldb_style_export_with_a_changed_opaque_hash_is_refused(tmp_path):
    strand = "KmA3ZZca7vAIiJAK9S5Iwl"
    blocks = _qldb_blocks(strand)
    blocks[1]["revisions"][0]["hash"] = hashlib.sha256(b"forged").digest()
    _write_qldb_export(tmp_path / "q", blocks, strand)
    _refused(tmp_path / "q", tmp_path, 1, "revisions root")


def test_qldb_style_table_recreated_under_the_same_name(tmp_path):
    strand, newer = "KmA3ZZca7vAIiJAK9S5Iwl", "NEWTABLEzt9oF4wjMbuxy4"
    steps = [*STEPS, (newer, "NEWDOCkIcNbhS2goq8RqLu", 0, {"VIN": "again"})]
    _write_qldb_export(tmp_path / "q", _qldb_blocks(strand, steps), strand)
    imported = import_export(tmp_path / "q", tmp_path / "q.ledger")
    with ledger.connect(imported) as db, db.transaction() as tx:
        assert tx.table("VehicleRegistration").table_id == newer
        assert tx.table_by_id(VEHICLES).status == "INACTIVE"
    assert verify_path(Path(imported)).verified
