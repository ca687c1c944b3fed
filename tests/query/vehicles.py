"""The QLDB Developer Guide's vehicle-registration sample ledger.

Source: Amazon QLDB Developer Guide, "Getting started with the Amazon QLDB console"
and the driver tutorials' ``SampleData`` (tables VehicleRegistration, Vehicle, Person,
DriversLicense; indexes on VIN, LicensePlateNumber, GovId, LicenseNumber, PersonId).
Owner PersonIds are the document ids of the Person rows, as the tutorial wires them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from amazon.ion import simpleion

from ledger.query import execute


def _ts(text: str) -> Any:
    return simpleion.loads(text)


PEOPLE = [
    (
        "Raul",
        "Lewis",
        "1963-08-19T",
        "LEWISR261LL",
        "Driver License",
        "1719 University Street, Seattle, WA, 98109",
    ),
    (
        "Brent",
        "Logan",
        "1967-07-03T",
        "LOGANB486CG",
        "Driver License",
        "43 Stockert Hollow Road, Everett, WA, 98203",
    ),
    (
        "Alexis",
        "Pena",
        "1974-02-10T",
        "744 849 301",
        "SSN",
        "4058 Melrose Street, Spokane Valley, WA, 99206",
    ),
    (
        "Melvin",
        "Parker",
        "1976-05-22T",
        "P626-168-229-765",
        "Passport",
        "4362 Ryder Avenue, Seattle, WA, 98101",
    ),
    (
        "Salvatore",
        "Spencer",
        "1997-11-15T",
        "S152-780-97-415-0",
        "Passport",
        "4450 Honeysuckle Lane, Seattle, WA, 98101",
    ),
]

VEHICLES = [
    ("1N4AL11D75C109151", "Sedan", 2011, "Audi", "A5", "Silver"),
    ("KM8SRDHF6EU074761", "Sedan", 2015, "Tesla", "Model S", "Blue"),
    ("3HGGK5G53FM761765", "Motorcycle", 2011, "Ducati", "Monster 1200", "Yellow"),
    ("1HVBBAANXWH544237", "Semi", 2009, "Ford", "F 150", "Black"),
    ("1C4RJFAG0FC625797", "Sedan", 2019, "Mercedes", "CLK 350", "White"),
]

REGISTRATIONS = [
    ("1N4AL11D75C109151", "LEWISR261LL", "Seattle", "90.25", "2017-08-21T", "2020-05-11T", 0, [1]),
    ("KM8SRDHF6EU074761", "CA762X", "Kent", "130.75", "2017-09-14T", "2020-06-25T", 1, []),
    ("3HGGK5G53FM761765", "CD820Z", "Everett", "442.30", "2011-03-17T", "2021-03-24T", 2, []),
    ("1HVBBAANXWH544237", "LS477D", "Tacoma", "42.20", "2011-10-26T", "2023-09-25T", 3, []),
    ("1C4RJFAG0FC625797", "TH393F", "Olympia", "30.45", "2013-09-02T", "2024-03-19T", 4, []),
]

LICENSES = [
    ("LEWISR261LL", "Learner", "2016-12-20T", "2020-11-15T", 0),
    ("LOGANB486CG", "Probationary", "2016-04-06T", "2020-11-15T", 1),
    ("744 849 301", "Full", "2017-12-06T", "2022-10-15T", 2),
    ("P626-168-229-765", "Learner", "2017-08-16T", "2021-11-15T", 3),
    ("S152-780-97-415-0", "Probationary", "2015-08-15T", "2021-08-21T", 4),
]

INDEXES = [
    ("VehicleRegistration", "VIN"),
    ("VehicleRegistration", "LicensePlateNumber"),
    ("Vehicle", "VIN"),
    ("Person", "GovId"),
    ("DriversLicense", "LicenseNumber"),
    ("DriversLicense", "PersonId"),
]


def load_vehicle_registration(ctx: Any) -> dict[str, Any]:
    """Create the four tables, their indexes and the sample documents in ``ctx``."""
    for table in ("VehicleRegistration", "Vehicle", "Person", "DriversLicense"):
        execute(ctx, f"CREATE TABLE {table}")
    for table, field in INDEXES:
        execute(ctx, f"CREATE INDEX ON {table} ({field})")
    person_ids = [_insert_person(ctx, person) for person in PEOPLE]
    for vin, kind, year, make, model, color in VEHICLES:
        execute(
            ctx,
            "INSERT INTO Vehicle ?",
            [
                {
                    "VIN": vin,
                    "Type": kind,
                    "Year": year,
                    "Make": make,
                    "Model": model,
                    "Color": color,
                }
            ],
        )
    for reg in REGISTRATIONS:
        _insert_registration(ctx, reg, person_ids)
    for number, kind, start, end, owner in LICENSES:
        execute(
            ctx,
            "INSERT INTO DriversLicense ?",
            [
                {
                    "LicenseNumber": number,
                    "LicenseType": kind,
                    "ValidFromDate": _ts(start),
                    "ValidToDate": _ts(end),
                    "PersonId": person_ids[owner],
                }
            ],
        )
    return {"person_ids": person_ids}


def _insert_person(ctx: Any, person: tuple[str, ...]) -> str:
    first, last, dob, gov_id, gov_type, address = person
    row = execute(
        ctx,
        "INSERT INTO Person ?",
        [
            {
                "FirstName": first,
                "LastName": last,
                "DOB": _ts(dob),
                "GovId": gov_id,
                "GovIdType": gov_type,
                "Address": address,
            }
        ],
    )
    return str(row[0]["documentId"])


def _insert_registration(ctx: Any, reg: tuple[Any, ...], person_ids: list[str]) -> None:
    vin, plate, city, amount, start, end, owner, secondary = reg
    execute(
        ctx,
        "INSERT INTO VehicleRegistration ?",
        [
            {
                "VIN": vin,
                "LicensePlateNumber": plate,
                "State": "WA",
                "City": city,
                "PendingPenaltyTicketAmount": Decimal(amount),
                "ValidFromDate": _ts(start),
                "ValidToDate": _ts(end),
                "Owners": {
                    "PrimaryOwner": {"PersonId": person_ids[owner]},
                    "SecondaryOwners": [{"PersonId": person_ids[i]} for i in secondary],
                },
            }
        ],
    )
