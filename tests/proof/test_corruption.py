"""Properties: an untouched ledger always verifies, and every corruption of a copy —
a flipped bit in a value or key, a dropped entry, a truncated value, two values
swapped (reordered), an entry duplicated under a new key — in any of the journal's
databases is detected and located.

Each example copies a ~20-block ledger, edits it through ``store.write`` and runs a
full verify (~50 ms); max_examples is kept modest so this folder stays under a minute.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from proofkit import copy_ledger, edit, entries, populate, scratch_dir, verify_path

import ledger
from ledger import ion
from ledger.hashing import ion_hash
from ledger.journal import catalog
from ledger.storage import layout

DATABASES = (
    "blocks",
    "block_hashes",
    "tree",
    "docs",
    "index",
    "revisions",
    "history",
    "times",
    "tables",
    "table_seq",
)
KINDS = ("flip_value", "flip_key", "drop", "truncate", "swap", "duplicate")


@pytest.fixture(scope="module")
def snapshot(base_ledger) -> tuple[Path, dict[str, list[tuple[bytes, bytes]]], int]:
    path, _ = base_ledger
    return path, {name: entries(path, name) for name in DATABASES}, len(entries(path, "blocks"))


def _flip(raw: bytes, bit: int) -> bytes:
    bit %= len(raw) * 8
    out = bytearray(raw)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _same_meaning(db: str, old: bytes, new: bytes) -> bool:
    """A change that leaves the decoded value identical is not a corruption."""
    try:
        if db == "blocks":
            return ion_hash(ion.loads(old)) == ion_hash(ion.loads(new))
        if db == "docs":
            return old[:90] == new[:90] and ion_hash(ion.loads(old[90:])) == ion_hash(
                ion.loads(new[90:])
            )
        if db == "tables":
            return catalog.decode("x" * 22, old) == catalog.decode("x" * 22, new)
    except Exception:
        return False
    return old == new


def _plan(
    data: dict[str, list[tuple[bytes, bytes]]], db: str, kind: str, i: int, j: int, bit: int
) -> tuple[dict[bytes, bytes | None], set[bytes]]:
    """The edits (key -> new value, None = delete) and the keys they touch."""
    rows = data[db]
    key, value = rows[i % len(rows)]
    existing = dict(rows)
    if kind == "flip_value" and value:
        new = _flip(value, bit)
        assume(not _same_meaning(db, value, new))
        return {key: new}, {key}
    if kind in ("flip_key", "flip_value"):
        new_key = _flip(key, bit)
        assume(new_key not in existing or existing[new_key] != value)
        return {key: None, new_key: value}, {key, new_key}
    if kind == "drop":
        return {key: None}, {key}
    if kind == "truncate":
        assume(len(value) > 0)
        new = value[: bit % len(value)]
        assume(not _same_meaning(db, value, new))
        return {key: new}, {key}
    if kind == "swap":
        other, other_value = rows[j % len(rows)]
        assume(other != key and other_value != value)
        return {key: other_value, other: value}, {key, other}
    new_key = key[:-1] + bytes([(key[-1] + 1 + bit % 255) % 256])
    assume(new_key not in existing)
    return {new_key: value}, {new_key}


def _apply(path: Path, db: str, changes: dict[bytes, bytes | None]) -> None:
    def write(w: Any) -> None:
        for key, value in changes.items():
            if value is None:
                w.delete(db, key)
            else:
                w.put(db, key, value)

    edit(path, write)


def _seqs(keys: set[bytes]) -> set[int]:
    return {layout.read_u64(k) for k in keys if len(k) == 8}


def _docs(keys: set[bytes]) -> set[str]:
    return {k[-layout.ID_LEN :].decode("ascii", "replace") for k in keys}


def _check_location(report: Any, db: str, touched: set[bytes], n_blocks: int) -> None:
    if db in ("blocks", "block_hashes"):
        assert report.block in _seqs(touched) | {n_blocks}, report
    elif db == "docs":
        assert report.document in _docs(touched), report
    elif db == "index":
        assert report.document in _docs(touched) or "index" in report.failure, report
    else:
        located = report.block is not None or report.document is not None
        assert located or db in report.failure or db.replace("_", " ") in report.failure, report


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    db=st.sampled_from(DATABASES),
    kind=st.sampled_from(KINDS),
    i=st.integers(0, 10_000),
    j=st.integers(0, 10_000),
    bit=st.integers(0, 1_000_000),
)
def test_every_corruption_is_detected_and_located(snapshot, db, kind, i, j, bit):
    base, data, n_blocks = snapshot
    changes, touched = _plan(data, db, kind, i, j, bit)
    folder = scratch_dir("corrupt-")
    try:
        path = copy_ledger(base, folder / "c.ledger")
        _apply(path, db, changes)
        report = verify_path(path)
        assert not report.verified, f"undetected: {db} {kind} {changes}"
        assert report.failure
        _check_location(report, db, touched, n_blocks)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# 12 small random ledgers (~0.3 s each): every one verifies, and so does every prefix of it.
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(0, 6))
def test_untouched_ledgers_always_verify(seed, rounds):
    from ledger.proof.verify import verify

    with ledger.connect(":memory:") as db:
        populate(db, rounds=rounds, seed=seed, redaction_alone=seed % 2 == 0)
        report = verify(db.journal)
        assert report.verified, report.failure
        assert report.digest == db.digest().digest


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_prefix_of_a_journal_verifies(seed):
    from ledger.proof.verify import verify

    with ledger.connect(":memory:") as db:
        with db.transaction() as tx:
            table = tx.create_table("T")
            tx.create_index(table, "k")
        docs: list[str] = []
        for i in range(8):
            with db.transaction() as tx:
                if docs and (seed >> i) & 1:
                    tx.update(table, docs[i % len(docs)], {"k": i})
                else:
                    docs.append(tx.insert(table, {"k": i}))
            assert verify(db.journal).verified
