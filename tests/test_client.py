"""The Python client end to end: statements through the real journal and LMDB.

Known answers follow the QLDB developer guide's vehicle-registration sample
(tables VehicleRegistration, Person; statements from its tutorial)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from amazon.ion.core import IonType, TimestampPrecision
from amazon.ion.simple_types import IonPyDict

import ledger
from ledger import ion
from ledger.hashing import ion_hash


@pytest.fixture
def vehicles(db):
    db.execute("CREATE TABLE VehicleRegistration")
    db.execute("CREATE TABLE Person")
    db.execute("CREATE INDEX ON VehicleRegistration (VIN)")
    db.execute("CREATE INDEX ON Person (GovId)")
    db.execute(
        "INSERT INTO VehicleRegistration ?",
        [
            {"VIN": "1N4AL11D75C109151", "LicensePlateNumber": "LEWISR261LL", "State": "WA",
             "City": "Seattle", "PendingPenaltyTicketAmount": ion.loads("90.25"),
             "ValidFromDate": ion.loads("2017-08-21T"), "ValidToDate": ion.loads("2020-05-11T"),
             "Owners": {"PrimaryOwner": {"PersonId": "294jJ3YUoH1IEEm8GSabOs"},
                        "SecondaryOwners": []}},
            {"VIN": "KM8SRDHF6EU074761", "LicensePlateNumber": "CA762X", "State": "WA",
             "City": "Kent", "PendingPenaltyTicketAmount": ion.loads("130.75"),
             "ValidFromDate": ion.loads("2017-09-14T"), "ValidToDate": ion.loads("2020-06-25T"),
             "Owners": {"PrimaryOwner": {"PersonId": "IN8yvLCUuSr9ltH5wIMRqu"},
                        "SecondaryOwners": []}},
        ],
    )
    db.execute("INSERT INTO Person << {'GovId': 'LEWISR261LL', 'FirstName': 'Raul', 'LastName': 'Lewis'},"
               " {'GovId': 'LOGANB486CG', 'FirstName': 'Brent', 'LastName': 'Logan'} >>")
    return db


def test_connect_execute_and_query_as_in_the_readme(db):
    db.execute("CREATE TABLE Person")
    db.execute("INSERT INTO Person ?", {"GovId": "P1", "Name": "Ann"})
    rows = list(db.execute("SELECT * FROM Person WHERE GovId = ?", "P1"))
    assert rows == [{"GovId": "P1", "Name": "Ann"}]
    assert isinstance(rows[0], IonPyDict) and ledger.ion_type_of(rows[0]["Name"]) is IonType.STRING


def test_ddl_and_dml_return_ids(db):
    (row,) = db.execute("CREATE TABLE T")
    assert set(row) == {"tableId"} and len(row["tableId"]) == 22
    rows = list(db.execute("INSERT INTO T << {'a': 1}, {'a': 2} >>"))
    assert [set(r) for r in rows] == [{"documentId"}, {"documentId"}]
    assert list(db.execute("UPDATE T AS t SET t.b = 1 WHERE t.a = 1"))[0]["documentId"] == rows[0]["documentId"]
    assert list(db.execute("DELETE FROM T AS t WHERE t.a = 2"))[0]["documentId"] == rows[1]["documentId"]


def test_insert_forms(db):
    db.execute("CREATE TABLE T")
    db.execute("INSERT INTO T VALUE {'n': 1}")
    db.execute("INSERT INTO T ?", {"n": 2})
    db.execute("INSERT INTO T ?", [{"n": 3}, {"n": 4}])
    db.execute("INSERT INTO T << ?, ? >>", {"n": 5}, ion.loads("{n: 6}"))
    assert sorted(r for r in db.execute("SELECT VALUE t.n FROM T AS t")) == [1, 2, 3, 4, 5, 6]


def test_select_projections_paths_and_predicates(vehicles):
    db = vehicles
    rows = list(db.execute(
        "SELECT r.VIN, r.Owners.PrimaryOwner.PersonId AS owner FROM VehicleRegistration AS r "
        "WHERE r.PendingPenaltyTicketAmount > 100 AND NOT r.City = 'Seattle'"))
    assert rows == [{"VIN": "KM8SRDHF6EU074761", "owner": "IN8yvLCUuSr9ltH5wIMRqu"}]
    rows = list(db.execute("SELECT VALUE p.FirstName FROM Person AS p WHERE p.GovId IN ('LOGANB486CG', 'X')"))
    assert rows == ["Brent"]
    rows = list(db.execute("SELECT p['LastName'] FROM Person AS p WHERE p.GovId = 'LEWISR261LL' OR p.GovId = 'nobody'"))
    assert rows == [{"LastName": "Lewis"}]


def test_decimals_and_timestamps_keep_their_precision(vehicles):
    (row,) = vehicles.execute(
        "SELECT r.PendingPenaltyTicketAmount AS amount, r.ValidFromDate AS d FROM VehicleRegistration AS r "
        "WHERE r.VIN = '1N4AL11D75C109151'")
    assert isinstance(row["amount"], Decimal) and str(row["amount"]) == "90.25"
    assert row["d"].precision == TimestampPrecision.DAY


def test_update_set_remove_and_versions(vehicles):
    db = vehicles
    db.execute("UPDATE VehicleRegistration AS r SET r.City = 'Everett', r.Extra = 1 WHERE r.VIN = ?",
               "1N4AL11D75C109151")
    db.execute("UPDATE VehicleRegistration AS r REMOVE r.Extra WHERE r.VIN = ?", "1N4AL11D75C109151")
    (row,) = db.execute("SELECT r.data.City, r.data.Extra, r.metadata.version FROM "
                        "_ql_committed_VehicleRegistration AS r WHERE r.data.VIN = ?", "1N4AL11D75C109151")
    assert row == {"City": "Everett", "version": 2}


def test_by_id_and_history(vehicles):
    db = vehicles
    (row,) = db.execute("SELECT id FROM VehicleRegistration AS r BY id WHERE r.VIN = ?", "KM8SRDHF6EU074761")
    doc_id = row["id"]
    before_update = dt.datetime.now(dt.UTC)
    db.execute("UPDATE VehicleRegistration AS r BY rid SET r.City = 'Renton' WHERE rid = ?", doc_id)
    db.execute("DELETE FROM VehicleRegistration AS r BY rid WHERE rid = ?", doc_id)
    history = list(db.execute("SELECT h.metadata.version AS v, h.data.City AS c FROM history(VehicleRegistration) "
                              "AS h WHERE h.metadata.id = ?", doc_id))
    assert history == [{"v": 0, "c": "Kent"}, {"v": 1, "c": "Renton"}, {"v": 2}]
    start = ion.dumps_text(ion.timestamp_ms(before_update + dt.timedelta(hours=1)))
    later = list(db.execute(f"SELECT VALUE h.metadata.version FROM history(VehicleRegistration, `{start}`) AS h "
                            "WHERE h.metadata.id = ?", doc_id))
    assert later == [2]
    assert list(db.execute("SELECT * FROM VehicleRegistration AS r BY rid WHERE rid = ?", doc_id)) == []


def test_history_by_table_id_after_drop(vehicles):
    db = vehicles
    (table,) = db.execute("SELECT VALUE tableId FROM information_schema.user_tables WHERE name = 'Person'")
    db.execute("DROP TABLE Person")
    with pytest.raises(ledger.ProgrammingError, match="Person"):
        db.execute("SELECT * FROM Person")
    rows = list(db.execute(f"SELECT VALUE h.data.GovId FROM history('{table}') AS h"))
    assert sorted(rows) == ["LEWISR261LL", "LOGANB486CG"]


def test_information_schema(vehicles):
    db = vehicles
    rows = {r["name"]: r for r in db.execute("SELECT * FROM information_schema.user_tables")}
    assert set(rows) == {"VehicleRegistration", "Person"}
    person = rows["Person"]
    assert person["status"] == "ACTIVE" and len(person["tableId"]) == 22
    assert [(i["expr"], i["status"]) for i in person["indexes"]] == [("[GovId]", "ONLINE")]
    names = list(db.execute("SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'"))
    assert sorted(names) == ["Person", "VehicleRegistration"]


def test_equality_and_in_use_the_index(vehicles):
    plan = " ".join(ion.dumps_text(r) for r in vehicles.execute(
        "EXPLAIN SELECT * FROM VehicleRegistration AS r WHERE r.VIN IN ('a', 'b')"))
    assert "VIN" in plan and "index" in plan.lower()


def test_parameters_are_bound_never_spliced(db):
    db.execute("CREATE TABLE T")
    db.execute("INSERT INTO T ?", {"name": "x' OR '1' = '1"})
    db.execute("INSERT INTO T ?", {"name": "y"})
    assert list(db.execute("SELECT VALUE t.name FROM T AS t WHERE t.name = ?", "x' OR '1' = '1")) == ["x' OR '1' = '1"]


def test_native_and_ion_parameters_are_equivalent(db):
    # a Python datetime is a timestamp with microsecond precision (as amazon.ion writes it)
    db.execute("CREATE TABLE T")
    db.execute("INSERT INTO T ?", {"d": Decimal("1.50"), "t": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                                   "b": b"\x00\x01", "l": [1, "a"], "n": None})
    db.execute("INSERT INTO T ?", ion.loads('{d: 1.50, t: 2020-01-02T03:04:05.000000Z, b: {{AAE=}}, l: [1, "a"], n: null}'))
    rows = list(db.execute("SELECT * FROM T"))
    assert ion_hash(rows[0]) == ion_hash(rows[1])


def test_parse_errors_point_at_the_source(db):
    with pytest.raises(ledger.ParseError) as info:
        db.execute("SELECT *\nFROM T WHERE")
    err = info.value
    assert err.line == 2 and err.column is not None
    assert err.expected
    assert "line 2" in str(err)


def test_unknown_table_and_wrong_parameter_count(db):
    with pytest.raises(ledger.ProgrammingError, match="Nope"):
        db.execute("SELECT * FROM Nope")
    db.execute("CREATE TABLE T")
    with pytest.raises(ledger.ProgrammingError, match="parameter"):
        db.execute("SELECT * FROM T WHERE a = ?")


def test_a_failed_statement_writes_nothing(db):
    db.execute("CREATE TABLE T")
    before = db.digest()
    with pytest.raises(ledger.Error):
        with db.transaction() as tx:
            tx.execute("INSERT INTO T VALUE {'a': 1}")
            tx.execute("SELECT * FROM NoSuchTable")
    assert db.digest() == before
    assert list(db.execute("SELECT * FROM T")) == []


def test_transaction_statements_share_one_block(db):
    db.execute("CREATE TABLE T")
    with db.transaction() as tx:
        (row,) = tx.execute("INSERT INTO T VALUE {'a': 1}")
        tx.execute("UPDATE T AS t SET t.a = 2")
        assert list(tx.execute("SELECT VALUE t.a FROM T AS t")) == [2]  # sees its own write
    seq = tx.block_address.sequence_no
    txn = db.journal.store.read()
    try:
        block = db.journal.load_block(txn, seq)
    finally:
        txn.close()
    assert [s["statement"] for s in block["transactionInfo"]["statements"]] == [
        "INSERT INTO T VALUE {'a': 1}", "UPDATE T AS t SET t.a = 2", "SELECT VALUE t.a FROM T AS t"]
    assert block["transactionInfo"]["documents"][row["documentId"]]["statements"] == [0, 1]
    assert len(block["revisions"]) == 1 and block["revisions"][0]["data"] == {"a": 2}


def test_read_only_transactions_write_no_block(db):
    db.execute("CREATE TABLE T")
    before = db.digest()
    list(db.execute("SELECT * FROM T"))
    assert db.digest() == before


def test_redaction_keeps_the_hash_and_history_shows_data_hash(db):
    db.execute("CREATE TABLE T")
    # a parameter, not a literal: statement text is journaled and never redacted (as in QLDB)
    (row,) = db.execute("INSERT INTO T ?", {"ssn": "123-45-6789", "n": 1})
    doc_id = row["documentId"]
    db.execute("UPDATE T AS t SET t.ssn = 'redact me next' WHERE t.n = 1")
    (table_id,) = db.execute("SELECT VALUE tableId FROM information_schema.user_tables WHERE name = 'T'")
    (first,) = db.execute("SELECT * FROM history(T) AS h WHERE h.metadata.id = ? AND h.metadata.version = 0", doc_id)
    address = first["blockAddress"]
    with pytest.raises(ledger.ProgrammingError, match="latest"):
        latest = db.execute("SELECT VALUE h.blockAddress FROM history(T) AS h WHERE h.metadata.version = 1").one()
        db.execute("EXEC REDACT_REVISION ?, ?, ?", latest, table_id, doc_id)
    (result,) = db.execute("EXEC REDACT_REVISION ?, ?, ?", address, table_id, doc_id)
    assert result == {"tableId": table_id, "documentId": doc_id, "version": 0}
    (redacted,) = db.execute("SELECT * FROM history(T) AS h WHERE h.metadata.id = ? AND h.metadata.version = 0", doc_id)
    assert "data" not in redacted
    assert redacted["dataHash"] == ion_hash(first["data"])
    assert redacted["hash"] == first["hash"]
    txn = db.journal.store.read()
    try:
        tip = db.journal.tip(txn).seq
        last = db.journal.load_block(txn, tip)
        raw = db.journal.block_bytes(txn, address["sequenceNo"])
    finally:
        txn.close()
    assert b"123-45-6789" not in raw
    assert last["redactionInfo"]["revisions"][0]["documentId"] == doc_id
    assert ion_hash(last["redactionInfo"]) in last["entriesHashList"]
    with pytest.raises(ledger.ProgrammingError, match="already redacted"):
        db.execute("EXEC REDACT_REVISION ?, ?, ?", address, table_id, doc_id)


def test_strict_mode_raises_where_permissive_yields_missing(db):
    db.execute("CREATE TABLE T")
    db.execute("INSERT INTO T VALUE {'a': 'text'}")
    assert list(db.execute("SELECT t.a + 1 AS x FROM T AS t")) == [{}]
    with pytest.raises(ledger.DataError):
        db.execute("SELECT t.a + 1 AS x FROM T AS t", mode="strict")


def test_proofs_take_block_addresses_as_queries_return_them(db):
    from ledger.hashing import fold

    db.execute("CREATE TABLE Person")
    (row,) = db.execute("INSERT INTO Person ?", {"GovId": "P1", "Name": "Ann"})
    doc_id = row["documentId"]
    db.execute("UPDATE Person AS p SET p.Name = 'Anne'")
    digest = db.digest()
    (first,) = db.execute("SELECT h.blockAddress FROM history(Person) AS h "
                          "WHERE h.metadata.id = ? AND h.metadata.version = 0", doc_id)
    for address in (first["blockAddress"], ion.dumps_text(first["blockAddress"])):
        revision, proof = db.get_revision(address, doc_id, digest.tip)
        assert fold(proof, revision["hash"]) == digest.digest
    assert db.verify().verified
