"""A scripted tour of the ledger (``make demo`` / ``python -m ledger.demo``).

Creates a ledger in a temporary directory, creates tables and an index, inserts,
queries, updates, shows history and the committed view, and prints the digest.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

import ledger
from ledger import ion


def show(title: str, statement: str, params: tuple[Any, ...], rows: list[Any]) -> None:
    if title:
        print(f"\n-- {title}")
    print(f"ledger> {statement}" + (f"    -- parameters: {ion.dumps_text(list(params))}" if params else ""))
    for row in rows:
        print("  " + ion.dumps_text(row))
    print(f"  ({len(rows)} document{'s' if len(rows) != 1 else ''})")


def run(db: ledger.Ledger, title: str, statement: str, *params: Any) -> list[Any]:
    rows = list(db.execute(statement, *params))
    show(title, statement, params, rows)
    return rows


TWO_UPDATES: list[tuple[str, tuple[Any, ...]]] = [
    (
        "UPDATE Vehicle AS v SET v.Price = ? WHERE v.VIN = ?",
        (ion.loads("39999.99"), "KM8SRDHF6EU074761"),
    ),
    (
        "UPDATE Vehicle AS v SET v.Owner = 'LEWISR261LL' WHERE v.VIN = ?",
        ("KM8SRDHF6EU074761",),
    ),
]

NEXT_STEPS = """
-- Next: the `ledger` command
`make demo` installed ledger into .venv. To run the `ledger` command yourself:
  source .venv/bin/activate        then: ledger shell --demo
  .venv/bin/ledger shell --demo    (or call it by its path)
  pip install .                    (or install it into your own environment;
                                    the distribution is called ledgerdb)
Then: ledger create my.ledger && ledger shell my.ledger   (docs/shell.md)"""


def tour(path: Path) -> None:
    print(f"A new ledger at {path}")
    with ledger.connect(path) as db:
        run(db, "Tables are created by statements, as in QLDB", "CREATE TABLE Vehicle")
        run(db, "", "CREATE TABLE Person")
        run(db, "An index serves equality lookups", "CREATE INDEX ON Vehicle (VIN)")
        run(
            db,
            "Insert documents: Ion values, bound as parameters",
            "INSERT INTO Vehicle ?",
            [
                {"VIN": "1N4AL11D75C109151", "Make": "Volkswagen", "Model": "Golf",
                 "Year": 2011, "Price": ion.loads("13500.00")},
                {"VIN": "KM8SRDHF6EU074761", "Make": "Tesla", "Model": "Model S",
                 "Year": 2015, "Price": ion.loads("42000.00")},
            ],
        )
        run(db, "", "INSERT INTO Person VALUE {'GovId': 'LEWISR261LL', 'FirstName': 'Raul'}")
        run(db, "Query through the index", "SELECT * FROM Vehicle WHERE VIN = ?", "1N4AL11D75C109151")
        rows = run(db, "BY binds the document id", "SELECT v.Make, id FROM Vehicle AS v BY id WHERE v.Year > 2012")
        doc_id = str(rows[0]["id"])
        print("\n-- Two updates in one transaction: one block, one new revision (version 1)")
        print("ledger> BEGIN")
        with db.transaction() as tx:
            for statement, params in TWO_UPDATES:
                show("", statement, params, tx.execute(statement, *params).fetchall())
        print("ledger> COMMIT")
        run(db, "The committed view adds hashes and metadata",
            "SELECT c.metadata, c.data.Price FROM _ql_committed_Vehicle AS c WHERE c.data.VIN = ?",
            "KM8SRDHF6EU074761")
        run(db, "History keeps every revision", "SELECT h.metadata.version, h.data.Price "
            "FROM history(Vehicle) AS h WHERE h.metadata.id = ?", doc_id)
        run(db, "The catalog", "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'")
        digest = db.digest()
        print("\n-- The digest: the root of the hash tree over every block")
        print(f"  Digest:           {base64.b64encode(digest.digest).decode()}")
        print(f"  DigestTipAddress: {digest.tip_ion_text()}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ledger-demo-") as tmp:
        tour(Path(tmp) / "vehicles.ledger")
    print(NEXT_STEPS)


if __name__ == "__main__":
    main()
