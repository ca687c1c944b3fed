"""How tests/golden/ledger-format2.tar.gz was made: a small ledger written by the code
of format 2 (commit f82c2d4, the last before format 3), and what it answers.

    git archive f82c2d4 | tar -x -C /tmp/format2
    LEDGER_PURE_PYTHON=1 PYTHONPATH=/tmp/format2 python tests/golden/make_ledger_format2.py /tmp/out
    (cd /tmp/out/compact && tar czf .../tests/golden/ledger-format2.tar.gz data.mdb)
    cp /tmp/out/expected.json tests/golden/ledger-format2.json

It holds a 40-document block (its envelope zlib-compressed: stored format 0x02), smaller
blocks (0x01), documents of two shapes, an update, a delete, an index and two tables.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from decimal import Decimal
from typing import Any

import ledger
from ledger import ion


def doc(i: int) -> dict[str, Any]:
    return {
        "VIN": f"VIN{i:05d}",
        "Make": ["Ford", "Tesla", "Audi"][i % 3],
        "Year": 1990 + i % 30,
        "Price": Decimal(i * 137).scaleb(-2),
        "Owners": {"PrimaryOwner": {"PersonId": f"P{i:04d}"}},
        "Tags": ["fleet", "red" if i % 2 else "blue"],
        "Notes": "n" * (i % 17),
    }


def answers(db: Any) -> dict[str, Any]:
    """What the ledger answers: the same queries the test asks the opened copy."""

    def rows(statement: str) -> list[str]:
        return sorted(ion.dumps_text(r) for r in db.execute(statement))

    digest = db.digest()
    return {
        "tip": digest.tip.sequence_no,
        "digest": digest.digest.hex(),
        "vehicles": rows("SELECT * FROM Vehicle"),
        "committed": rows("SELECT * FROM _ql_committed_Vehicle"),
        "history": rows("SELECT * FROM history(Vehicle)"),
    }


def main(out: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
    with ledger.connect(os.path.join(out, "ledger")) as db:
        db.execute("CREATE TABLE Vehicle")
        db.execute("CREATE INDEX ON Vehicle (VIN)")
        db.execute("INSERT INTO Vehicle ?", [doc(i) for i in range(40)])
        db.execute("INSERT INTO Vehicle ?", [doc(i) for i in range(40, 42)])
        db.execute("INSERT INTO Vehicle ?", {"VIN": "ODD", "shape": [1, 2.5e0, None]})
        db.execute("UPDATE Vehicle SET Year = 2024 WHERE VIN = 'VIN00003'")
        db.execute("DELETE FROM Vehicle WHERE VIN = 'VIN00004'")
        db.execute("CREATE TABLE Person")
        db.execute("INSERT INTO Person ?", {"PersonId": "P0001", "Name": "Ana"})
        expected = {"format": db.journal.meta()["format"], **answers(db)}
        compact = os.path.join(out, "compact")
        os.makedirs(compact)
        db.journal.store._env.copy(compact, compact=True)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
