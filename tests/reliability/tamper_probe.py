"""Run in a child process by test_tamper.py: open a (possibly damaged) ledger copy,
fingerprint its logical contents and verify it, printing one JSON line.

A damaged LMDB file can crash the process that reads it (LMDB keeps no page
checksums), so the test runs this in a subprocess and treats a crash as "not
verified".
"""

from __future__ import annotations

import hashlib
import json
import sys

import ledger
from ledger.storage.kv import DBS


def fingerprint(db: ledger.Ledger) -> str:
    """A hash of every key and value of every named database."""
    h = hashlib.sha256()
    txn = db.journal.store.read()
    try:
        for name in DBS:
            h.update(name.encode())
            for key, value in txn.range(name):
                h.update(len(key).to_bytes(4, "big") + key + len(value).to_bytes(4, "big") + value)
    finally:
        txn.close()
    return h.hexdigest()


def main(path: str) -> None:
    out: dict[str, object] = {"fingerprint": None, "verified": False, "failure": None}
    try:
        with ledger.connect(path, readonly=True) as db:
            out["fingerprint"] = fingerprint(db)
            report = db.verify()
            out["verified"] = report.verified
            out["failure"] = report.failure
    except Exception as exc:  # could not open or read: certainly not "verified"
        out["failure"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
