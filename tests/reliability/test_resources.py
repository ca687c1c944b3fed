"""Resource faults: a full disk fails the commit cleanly and the ledger recovers when
space returns; a read-only ledger (and file system) serves queries; foreign files and
future formats are refused with clear errors."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "fs"
    _mount_tmpfs(where, "3m")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_fails_the_commit_cleanly_and_recovers(small_fs: Path):
    path = small_fs / "full.ledger"
    filler = small_fs / "filler"
    db = ledger.connect(path)
    db.execute("CREATE TABLE T")
    filler.write_bytes(b"x" * (1 << 20))
    written = 0
    with pytest.raises(ledger.StorageError, match="probably full"):
        for _ in range(10_000):
            db.execute("INSERT INTO T ?", [{"n": written + i, "pad": "y" * 2000} for i in range(10)])
            written += 10
    before = db.digest()
    assert len(list(db.execute("SELECT * FROM T"))) == written  # nothing half-written
    filler.unlink()  # space returns
    db.execute("INSERT INTO T ?", {"n": -1})
    assert db.digest().tip.sequence_no == before.tip.sequence_no + 1
    db.close()
    with ledger.connect(path) as again:
        assert len(list(again.execute("SELECT * FROM T"))) == written + 1


def test_read_only_file_system_serves_queries(small_fs: Path):
    path = small_fs / "ro.ledger"
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE T")
        db.execute("INSERT INTO T ?", {"a": 1})
        digest = db.digest()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True, text=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
    with ledger.connect(path, readonly=True) as db:
        assert list(db.execute("SELECT VALUE t.a FROM T AS t")) == [1]
        assert db.digest() == digest
        with pytest.raises(ledger.StorageError, match="read-only"):
            db.execute("INSERT INTO T ?", {"a": 2})


def test_missing_ledger_opened_read_only_is_refused(tmp_path: Path):
    with pytest.raises(ledger.NoLedgerError, match="no ledger at"):
        ledger.connect(tmp_path / "nothing", readonly=True)


def test_directory_of_other_files_is_not_a_ledger(tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.mdb").write_bytes(b"this is not LMDB" * 512)
    with pytest.raises(ledger.StorageError, match="other"):
        ledger.connect(other)


def test_lmdb_file_of_another_program_is_not_a_ledger(tmp_path: Path):
    import lmdb

    foreign = tmp_path / "foreign"
    env = lmdb.open(str(foreign), max_dbs=2)
    with env.begin(write=True) as txn:
        txn.put(b"hello", b"world")
    env.close()
    for readonly in (True, False):
        with pytest.raises(ledger.StorageError, match="not a ledger"):
            ledger.connect(foreign, readonly=readonly)
