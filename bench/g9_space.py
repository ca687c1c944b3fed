"""G9: space.  Bytes on disk per revision of the indexed ledger of bench/fixtures.py
(n documents, 40 per transaction, index on VIN): the LMDB pages in use (branch, leaf and
overflow pages of every named database, plus LMDB's own two meta pages and main DB),
read with ``Environment.stat()`` per database, not the sparse file's size; against the
SQLite file holding the same rows as JSON with an expression index on VIN, after a WAL
checkpoint.  Target: ≤ 2.5× the Ion binary size of the documents themselves."""

from __future__ import annotations

import lmdb

from bench.fixtures import sqlite_bytes, vehicles
from bench.stats import Row
from ledger import ion
from ledger.storage.kv import DBS


def lmdb_usage(path: str) -> tuple[int, dict[str, int], int]:
    """(bytes in use, bytes per named database, file size) of a ledger directory."""
    env = lmdb.open(path, readonly=True, lock=False, max_dbs=len(DBS) + 2, subdir=True)
    try:
        per_db = {}
        with env.begin() as txn:
            for name in DBS:
                db = env.open_db(name.encode(), txn=txn, create=False)
                st = txn.stat(db)
                pages = st["branch_pages"] + st["leaf_pages"] + st["overflow_pages"]
                per_db[name] = pages * st["psize"]
        main = env.stat()
        psize = main["psize"]
        overhead = (2 + main["branch_pages"] + main["leaf_pages"] + main["overflow_pages"]) * psize
        file_size = (env.info()["last_pgno"] + 1) * psize
    finally:
        env.close()
    return sum(per_db.values()) + overhead, per_db, file_size


def run(quick: bool = False) -> Row:
    n = 10_000 if quick else 100_000
    fx = vehicles(n)
    ion_bytes = sum(len(ion.dumps(d)) for d in fx.docs) / n
    used, per_db, high_water = lmdb_usage(str(fx.ledger_path))
    ours = used / n
    peer = sqlite_bytes(fx.sqlite_path) / n
    ratio = ours / peer
    biggest = sorted(per_db.items(), key=lambda kv: -kv[1])
    split = ", ".join(f"{name} {size / n:,.0f}" for name, size in biggest if size)
    return Row(
        "G9", f"bytes on disk per revision, {n:,} documents, indexed",
        f"{ours:,.0f} B/revision", f"{peer:,.0f} B/row (SQLite)",
        ratio, "≤ 2.5× the Ion size of the documents", ours <= 2.5 * ion_bytes,
        note=(
            f"documents are {ion_bytes:.0f} B of Ion binary each: the ledger uses "
            f"{ours / ion_bytes:.2f}× that (target ≤ 2.5×), SQLite {peer / ion_bytes:.2f}×; "
            f"ledger per database (B/revision): {split}; LMDB high-water mark "
            f"{high_water / n:,.0f} B/revision (includes free pages)"
        ),
    )
