"""An app written for pyqldb runs on ``ledger.qldb`` unchanged.

The first part is a vehicle-registration app in the shape of AWS's DMV sample
(amazon-qldb-dmv-sample-python: create_table, insert_document, register_drivers_license,
add_secondary_owner, transfer_vehicle_ownership, renew_drivers_license,
deregister_drivers_license, query_history, redact_revision, get_revision + verifier),
written only against ``ledger.qldb`` the way pyqldb code is written: values checked
with ``isinstance(..., IonPy*)`` and ``ion_type``.  The second part pins pyqldb's
driver behaviour: retries and backoff (pyqldb/util/retry.py), cursors
(pyqldb/cursor/*.py), abort, closed drivers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from amazon.ion.core import IonType
from amazon.ion.simple_types import (
    IonPyBool,
    IonPyBytes,
    IonPyDecimal,
    IonPyDict,
    IonPyInt,
    IonPyList,
    IonPyNull,
    IonPySymbol,
    IonPyText,
    IonPyTimestamp,
)
from amazon.ion.simpleion import loads
from hypothesis import given
from hypothesis import strategies as st

import ledger
from ledger.errors import OccConflictError, ProgrammingError
from ledger.qldb import (
    BufferedCursor,
    DriverClosedError,
    LambdaAbortedError,
    QldbDriver,
    ResultClosedError,
    RetryConfig,
    calculate_backoff,
)

TABLES = ["DriversLicense", "Person", "Vehicle", "VehicleRegistration"]
INDEXES = [("VehicleRegistration", "VIN"), ("Vehicle", "VIN"), ("Person", "GovId"),
           ("DriversLicense", "LicenseNumber"), ("DriversLicense", "PersonId")]  # fmt: skip
PEOPLE = [
    {"FirstName": "Raul", "LastName": "Lewis", "DOB": dt.date(1963, 8, 19).isoformat(),
     "GovId": "LEWISR261LL", "GovIdType": "Driver License", "Address": "1719 University Street"},
    {"FirstName": "Brent", "LastName": "Logan", "DOB": dt.date(1967, 7, 3).isoformat(),
     "GovId": "LOGANB486CG", "GovIdType": "Passport", "Address": "43 Stockert Hollow Road"},
]  # fmt: skip
VIN = "1N4AL11D75C109151"


# -- the app ------------------------------------------------------------------------------------
def get_document_ids(executor, table: str, field: str, value: Any) -> list[str]:
    query = f"SELECT id FROM {table} AS t BY id WHERE t.{field} = ?"
    return [row["id"] for row in executor.execute_statement(query, value)]


def create_tables_and_indexes(driver: QldbDriver) -> None:
    for table in TABLES:
        driver.execute_lambda(lambda ex, t=table: ex.execute_statement(f"CREATE TABLE {t}"))
    for table, field in INDEXES:
        driver.execute_lambda(
            lambda ex, t=table, f=field: ex.execute_statement(f"CREATE INDEX ON {t} ({f})")
        )


def insert_people_and_vehicle(driver: QldbDriver) -> dict[str, str]:
    def insert(executor):
        ids = {}
        for person in PEOPLE:
            cursor = executor.execute_statement("INSERT INTO Person ?", person)
            ids[person["GovId"]] = next(cursor)["documentId"]
        executor.execute_statement(
            "INSERT INTO Vehicle ?",
            {"VIN": VIN, "Type": "Sedan", "Year": 2011, "Make": "Audi", "Model": "A5",
             "Color": "Silver", "Photo": b"\x89PNG", "Kind": loads("sedan")},
        )  # fmt: skip
        executor.execute_statement(
            "INSERT INTO VehicleRegistration ?",
            {"VIN": VIN, "LicensePlateNumber": "LEWISR261LL", "State": "WA", "City": "Seattle",
             "ValidFromDate": loads("2017-08-21T"), "ValidToDate": loads("2020-05-11T"),
             "PendingPenaltyTicketAmount": Decimal("90.25"),
             "Owners": {"PrimaryOwner": {"PersonId": ids["LEWISR261LL"]},
                        "SecondaryOwners": []}},
        )  # fmt: skip
        return ids

    return driver.execute_lambda(insert)


def register_drivers_license(driver: QldbDriver, gov_id: str, license_number: str) -> Any:
    def register(executor):
        (person_id,) = get_document_ids(executor, "Person", "GovId", gov_id)
        if get_document_ids(executor, "DriversLicense", "PersonId", person_id):
            return None
        license_doc = {"PersonId": person_id, "LicenseNumber": license_number,
                       "LicenseType": "Learner", "ValidFromDate": loads("2016-12-20T"),
                       "ValidToDate": loads("2020-11-15T")}  # fmt: skip
        return executor.execute_statement("INSERT INTO DriversLicense ?", license_doc)

    return driver.execute_lambda(register)


def add_secondary_owner(driver: QldbDriver, vin: str, gov_id: str) -> None:
    def add(executor):
        (person_id,) = get_document_ids(executor, "Person", "GovId", gov_id)
        executor.execute_statement(
            "FROM VehicleRegistration AS v WHERE v.VIN = ? "
            "INSERT INTO v.Owners.SecondaryOwners VALUE ?",
            vin,
            {"PersonId": person_id},
        )

    driver.execute_lambda(add)


def transfer_vehicle_ownership(driver: QldbDriver, vin: str, new_gov_id: str) -> None:
    def transfer(executor):
        (person_id,) = get_document_ids(executor, "Person", "GovId", new_gov_id)
        cursor = executor.execute_statement(
            "SELECT r.Owners.PrimaryOwner.PersonId FROM VehicleRegistration AS r WHERE r.VIN = ?",
            vin,
        )
        if next(cursor)["PersonId"] == person_id:
            executor.abort()
        executor.execute_statement(
            "UPDATE VehicleRegistration AS r SET r.Owners.PrimaryOwner.PersonId = ? WHERE r.VIN = ?",
            person_id,
            vin,
        )

    driver.execute_lambda(transfer)


def renew_drivers_license(driver: QldbDriver, license_number: str) -> Any:
    return driver.execute_lambda(
        lambda ex: ex.execute_statement(
            "UPDATE DriversLicense AS d SET d.ValidFromDate = ?, d.ValidToDate = ? "
            "WHERE d.LicenseNumber = ?",
            loads("2019-08-21T"),
            loads("2024-08-21T"),
            license_number,
        )
    )


def deregister_drivers_license(driver: QldbDriver, license_number: str) -> Any:
    return driver.execute_lambda(
        lambda ex: ex.execute_statement(
            "DELETE FROM DriversLicense AS d WHERE d.LicenseNumber = ?", license_number
        )
    )


def join_hash_pairwise(h1: bytes, h2: bytes) -> bytes:
    """QLDB's verifier (amazon-qldb-dmv-sample-python verifier.py), written from its rule."""
    if not h1:
        return h2
    if not h2:
        return h1

    def signed(b: int) -> int:
        return b - 256 if b > 127 else b

    for a, b in zip(reversed(h1), reversed(h2), strict=True):
        if signed(a) != signed(b):
            pair = h1 + h2 if signed(a) < signed(b) else h2 + h1
            return hashlib.sha256(pair).digest()
    return hashlib.sha256(h1 + h2).digest()


# -- the app's flows ------------------------------------------------------------------------------
@pytest.fixture
def driver(tmp_path):
    with QldbDriver(str(tmp_path / "vehicle-registration")) as qldb_driver:
        create_tables_and_indexes(qldb_driver)
        yield qldb_driver


def test_vehicle_registration_app(driver):
    assert sorted(str(t) for t in driver.list_tables()) == TABLES
    ids = insert_people_and_vehicle(driver)
    cursor = register_drivers_license(driver, "LEWISR261LL", "LEWISR261LL")
    assert isinstance(cursor, BufferedCursor)  # returned from the lambda: readable after commit
    (inserted,) = list(cursor)
    assert isinstance(inserted["documentId"], IonPyText)
    assert register_drivers_license(driver, "LEWISR261LL", "X") is None  # already registered

    add_secondary_owner(driver, VIN, "LOGANB486CG")
    transfer_vehicle_ownership(driver, VIN, "LOGANB486CG")
    with pytest.raises(LambdaAbortedError):  # the same owner again: the app aborts
        transfer_vehicle_ownership(driver, VIN, "LOGANB486CG")

    renewed = renew_drivers_license(driver, "LEWISR261LL")
    assert [str(r["documentId"]) for r in renewed] == [str(inserted["documentId"])]
    deregister_drivers_license(driver, "LEWISR261LL")
    assert not list(
        driver.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM DriversLicense"))
    )

    (registration,) = driver.execute_lambda(
        lambda ex: ex.execute_statement(
            "SELECT * FROM VehicleRegistration AS r WHERE r.VIN = ?", VIN
        )
    )
    owners = registration["Owners"]
    assert owners["PrimaryOwner"]["PersonId"] == ids["LOGANB486CG"]
    assert [o["PersonId"] for o in owners["SecondaryOwners"]] == [ids["LOGANB486CG"]]
    _check_ion_py_values(driver, registration)
    _query_history_redact_and_verify(driver, ids)


def _check_ion_py_values(driver: QldbDriver, registration: Any) -> None:
    """pyqldb's value model: amazon.ion's default, every value an IonPy type."""
    assert isinstance(registration, IonPyDict) and registration.ion_type is IonType.STRUCT
    assert isinstance(registration["PendingPenaltyTicketAmount"], IonPyDecimal)
    assert registration["PendingPenaltyTicketAmount"] == Decimal("90.25")
    assert isinstance(registration["ValidFromDate"], IonPyTimestamp)
    assert isinstance(registration["Owners"]["SecondaryOwners"], IonPyList)
    (vehicle,) = driver.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM Vehicle"))
    assert isinstance(vehicle["Year"], IonPyInt) and vehicle["Year"].ion_type is IonType.INT
    assert isinstance(vehicle["Photo"], IonPyBytes) and vehicle["Photo"].ion_type is IonType.BLOB
    assert isinstance(vehicle["Kind"], IonPySymbol) and vehicle["Kind"].text == "sedan"
    (row,) = driver.execute_lambda(
        lambda ex: ex.execute_statement(
            "SELECT NULL AS n, `null.int` AS i, v.Year > 2000 AS b FROM Vehicle AS v"
        )
    )
    assert isinstance(row["n"], IonPyNull) and row["n"].ion_type is IonType.NULL
    assert isinstance(row["i"], IonPyNull) and row["i"].ion_type is IonType.INT
    assert isinstance(row["b"], IonPyBool) and row["b"] == True  # noqa: E712


def _query_history_redact_and_verify(driver: QldbDriver, ids: dict[str, str]) -> None:
    def history(executor):
        (doc_id,) = get_document_ids(executor, "VehicleRegistration", "VIN", VIN)
        return executor.execute_statement(
            "SELECT * FROM history(VehicleRegistration) AS h WHERE h.metadata.id = ?", doc_id
        )

    revisions = list(driver.execute_lambda(history))
    assert [int(r["metadata"]["version"]) for r in revisions] == [0, 1, 2]
    first = revisions[0]
    assert first["data"]["Owners"]["PrimaryOwner"]["PersonId"] == ids["LEWISR261LL"]

    # verify revision 0 with its proof against a digest, as the sample's get_revision does
    db = driver.ledger
    digest = db.digest()
    revision, proof = db.get_revision(
        first["blockAddress"], str(first["metadata"]["id"]), digest.tip
    )
    computed = bytes(revision["hash"])
    for node in proof:
        computed = join_hash_pairwise(computed, bytes(node))
    assert computed == digest.digest and bytes(revision["hash"]) == bytes(first["hash"])

    def redact(executor):
        (table_id,) = executor.execute_statement(
            "SELECT VALUE tableId FROM information_schema.user_tables WHERE name = ?",
            "VehicleRegistration",
        )
        return executor.execute_statement(
            "EXEC redact_revision ?, ?, ?", first["blockAddress"], table_id, first["metadata"]["id"]
        )

    (redacted,) = driver.execute_lambda(redact)
    assert int(redacted["version"]) == 0
    after = list(driver.execute_lambda(history))
    assert "data" not in after[0] and bytes(after[0]["dataHash"])  # redacted, still hashed
    assert db.verify().verified


# -- pyqldb's driver behaviour ----------------------------------------------------------------------
def test_occ_conflicts_are_retried_with_backoff(tmp_path):
    path = tmp_path / "occ"
    calls: list[tuple[int, str, str]] = []

    def backoff(attempt: int, error: BaseException, transaction_id: str) -> int:
        calls.append((attempt, type(error).__name__, transaction_id))
        return -5  # negative: no delay

    with QldbDriver(
        str(path), retry_config=RetryConfig(retry_limit=3, custom_backoff=backoff)
    ) as drv:
        drv.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE Account"))
        drv.execute_lambda(lambda ex: ex.execute_statement("INSERT INTO Account ?", {"n": 0}))
        other = ledger.connect(path)
        attempts = []

        def bump(executor):
            attempts.append(executor.transaction_id)
            (account,) = executor.execute_statement("SELECT * FROM Account")
            if len(attempts) <= 2:  # someone else commits in between, twice
                other.execute("UPDATE Account SET n = n + 100")
            executor.execute_statement("UPDATE Account SET n = ?", account["n"] + 1)
            return "done"

        assert drv.execute_lambda(bump) == "done"
        assert len(attempts) == 3 and len(set(attempts)) == 3
        assert calls == [(1, "OccConflictError", attempts[0]), (2, "OccConflictError", attempts[1])]
        (account,) = drv.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM Account"))
        assert account["n"] == 201

        attempts.clear()
        with pytest.raises(OccConflictError):  # retry_limit=0 for this call: no retry
            drv.execute_lambda(bump, retry_config=RetryConfig(retry_limit=0))
        assert len(attempts) == 1
        other.close()


def test_other_errors_abort_and_propagate(driver):
    attempts = []

    def bad(executor):
        attempts.append(1)
        executor.execute_statement("INSERT INTO Person ?", {"GovId": "X"})
        executor.execute_statement("SELECT * FROM NoSuchTable")

    with pytest.raises(ProgrammingError):
        driver.execute_lambda(bad)
    assert attempts == [1]
    assert not list(driver.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM Person")))


def test_cursors_follow_pyqldb(driver):
    insert_people_and_vehicle(driver)
    kept = []

    def read(executor):
        cursor = executor.execute_statement("SELECT * FROM Person")
        assert next(cursor)["GovId"] in {"LEWISR261LL", "LOGANB486CG"}  # an iterator
        kept.append(cursor)
        return 7

    assert driver.execute_lambda(read) == 7
    with pytest.raises(ResultClosedError):  # not returned: not buffered, closed with its txn
        next(kept[0])

    scan = driver.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM Person"))
    assert scan.get_consumed_ios() == {"ReadIOs": 2}  # both documents read
    indexed = driver.execute_lambda(
        lambda ex: ex.execute_statement("SELECT * FROM Person WHERE GovId = ?", "LOGANB486CG")
    )
    assert indexed.get_consumed_ios() == {"ReadIOs": 1}  # the index found one
    timing = indexed.get_timing_information()
    assert (
        set(timing) == {"ProcessingTimeMilliseconds"} and timing["ProcessingTimeMilliseconds"] >= 0
    )
    assert [str(p["GovId"]) for p in indexed] == ["LOGANB486CG"]
    assert list(indexed) == []  # consumed


def test_closed_driver_and_options(tmp_path):
    drv = QldbDriver(str(tmp_path / "c"), region_name="us-east-1", read_ahead=2)
    drv.close()
    with pytest.raises(DriverClosedError):
        drv.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM x"))
    with pytest.raises(DriverClosedError):
        drv.list_tables()
    with pytest.raises(TypeError):
        QldbDriver(str(tmp_path / "d"), ledger_nmae="typo")
    with pytest.raises(ValueError):
        QldbDriver(str(tmp_path / "d"), read_ahead=1)
    with pytest.raises(ValueError):
        RetryConfig(retry_limit=-1)
    with pytest.raises(ValueError):
        RetryConfig(base=-1)
    with ledger.connect(tmp_path / "e") as db:  # an open Ledger is left open
        with QldbDriver(db) as drv2:
            drv2.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE T"))
        assert list(db.execute("SELECT VALUE name FROM information_schema.user_tables")) == ["T"]


@given(base=st.integers(0, 1000), attempt=st.integers(1, 80))
def test_backoff_is_pyqldbs_equal_jitter(base, attempt):
    seed = min(base * 2**attempt, 5000)
    delay = calculate_backoff(RetryConfig(base=base), attempt, OccConflictError("x"), "t")
    assert seed / 2 <= delay <= seed / 2 + seed // 2


def test_concurrent_drivers_serialize(tmp_path):
    path = str(tmp_path / "bank")
    with QldbDriver(path) as setup:
        setup.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE Bank"))
        setup.execute_lambda(lambda ex: ex.execute_statement("INSERT INTO Bank ?", {"total": 0}))

    def worker():
        with QldbDriver(path, retry_config=RetryConfig(retry_limit=50, base=1)) as drv:
            for _ in range(5):
                drv.execute_lambda(
                    lambda ex: ex.execute_statement("UPDATE Bank SET total = total + 1")
                )

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with QldbDriver(path) as drv:
        (bank,) = drv.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM Bank"))
    assert bank["total"] == 15


def test_native_cursor_is_an_iterator_and_value_model_is_chosen(tmp_path):
    with ledger.connect(tmp_path / "n", value_model="ion_py") as db:
        db.execute("CREATE TABLE T")
        db.execute("INSERT INTO T ?", {"s": "x", "i": 1})
        cursor = db.execute("SELECT * FROM T")
        row = next(cursor)
        assert isinstance(row["s"], IonPyText) and isinstance(row["i"], IonPyInt)
        with pytest.raises(StopIteration):
            next(cursor)
        assert cursor.get_consumed_ios() == {"ReadIOs": 1}
    with ledger.connect(":memory:") as db:
        db.execute("CREATE TABLE T")
        db.execute("INSERT INTO T ?", {"s": "x"})
        (row,) = db.execute("SELECT * FROM T")
        assert type(row["s"]) is str  # the default model: plain where unambiguous
    with pytest.raises(ledger.InterfaceError, match="value_model"):
        ledger.connect(":memory:", value_model="bare")
