"""Tampering with the ledger file itself, byte by byte, in a copy.

For each edit: if the ledger's logical contents changed (any key or value of any
database), ``verify`` must not report it verified — it names the failure, or the
damaged file cannot even be read.  An edit that lands in a free page changes nothing
the ledger holds, and verifying it is then correct.  Edits aim at journal blocks,
document rows, index keys and meta, and at random offsets.  What cannot be detected
without an external digest (removing the newest blocks) is tested in tests/proof.
``LEDGER_SOAK=1`` tries many more offsets.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from ledger.storage import layout

SOAK = os.environ.get("LEDGER_SOAK") == "1"
RANDOM_EDITS = 300 if SOAK else 12
PROBE = Path(__file__).with_name("tamper_probe.py")
MARKERS = {
    "document row": b"Raul-Lewis-Marker",  # document data: stored in its block, once
    "journal block": b"",  # a block's (compressed) envelope: found by _envelope_marker
    "index key": b"IDX-KEY-",
    "meta": b"format",
}


def _envelope_marker(path: Path) -> bytes:
    """The first bytes of a stored block's envelope (zlib-compressed: no plain text)."""
    with ledger.connect(path, readonly=True) as db:
        txn = db.journal.store.read()
        try:
            raw = txn.get("blocks", layout.block_key(5))
        finally:
            txn.close()
    fmt, parts, envelope_len = struct.unpack_from(">BHI", raw)
    shared = fmt in (layout.SHARED_PARTS, layout.SHARED_ZLIB)  # format 3: the envelope last
    start = len(raw) - envelope_len if shared else 7 + 6 * parts
    return bytes(raw[start : start + 16])


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tamper") / "good.ledger"
    with ledger.connect(path) as db:
        db.execute("CREATE TABLE VehicleRegistration")
        db.execute("CREATE INDEX ON VehicleRegistration (Plate)")
        for i in range(30):
            db.execute("INSERT INTO VehicleRegistration ?",
                       {"Plate": f"IDX-KEY-{i:04d}", "Owner": "Raul-Lewis-Marker", "n": i})
        db.execute("UPDATE VehicleRegistration AS v SET v.n = v.n + 100 WHERE v.n < 5")
    return path


def _probe(path: Path) -> dict:
    done = subprocess.run([sys.executable, str(PROBE), str(path)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:  # crashed on the damaged file: it did not say "verified"
        return {"fingerprint": None, "verified": False, "failure": f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _edit(original: Path, tmp: Path, offset: int) -> Path:
    copy = tmp / f"edit-{offset}"
    shutil.copytree(original, copy)
    data = copy / "data.mdb"
    with open(data, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))
    return copy


def _check(original: Path, tmp: Path, offset: int, baseline: str) -> str:
    result = _probe(_edit(original, tmp, offset))
    changed = result["fingerprint"] != baseline
    if changed:
        assert not result["verified"], f"a changed ledger verified (edit at byte {offset})"
        assert result["failure"], "a failed verification must say what failed"
        return "detected"
    assert result["verified"], f"an unchanged ledger failed: {result['failure']}"
    return "free page"


def test_untouched_copy_verifies(original):
    result = _probe(original)
    assert result["verified"], result["failure"]


def _occurrences(raw: bytes, marker: bytes) -> list[int]:
    found, at = [], raw.find(marker)
    while at >= 0:
        found.append(at)
        at = raw.find(marker, at + 1)
    return found


@pytest.mark.parametrize("what", sorted(MARKERS))
def test_edits_to_known_contents_are_detected(original, tmp_path, what):
    """LMDB copies pages on write, so stale copies of a value sit in free pages: edit
    occurrences until one lands in a live page; that one must be detected."""
    baseline = _probe(original)["fingerprint"]
    marker = MARKERS[what] or _envelope_marker(original)
    offsets = _occurrences((original / "data.mdb").read_bytes(), marker)
    assert offsets, f"{what} marker not found in the file"
    random.Random(what).shuffle(offsets)
    outcomes = []
    for offset in offsets[:12]:
        outcomes.append(_check(original, tmp_path, offset + 2, baseline))
        if outcomes[-1] == "detected":
            break
    assert "detected" in outcomes, f"no edit of the {what} landed in a live page"


def test_random_byte_edits_never_verify_a_changed_ledger(original, tmp_path):
    baseline = _probe(original)["fingerprint"]
    size = (original / "data.mdb").stat().st_size
    rng = random.Random(2026)
    outcomes = [_check(original, tmp_path, rng.randrange(size), baseline) for _ in range(RANDOM_EDITS)]
    print(f"random edits: {outcomes.count('detected')} detected, {outcomes.count('free page')} in free pages")
