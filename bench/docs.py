"""Deterministic ~300-byte documents (docs/benchmarks.md): about ten fields of mixed types."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

from amazon.ion.core import Timestamp, TimestampPrecision

_MAKES = ["Volkswagen", "Tesla", "Toyota", "Ford", "Honda", "Subaru", "Nissan", "Audi"]
_CITIES = ["Everett", "Seattle", "Tacoma", "Spokane", "Bellevue", "Olympia"]


def document(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    moment = dt.datetime(2019, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**8))
    return {
        "VIN": f"1N4AL11D7{i:08d}",
        "Make": rng.choice(_MAKES),
        "Model": f"Model-{rng.randrange(100)}",
        "Year": 1990 + rng.randrange(35),
        "Price": Decimal(rng.randrange(10**7)).scaleb(-2),
        "City": rng.choice(_CITIES),
        "RegisteredAt": Timestamp(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
            tzinfo=dt.UTC, precision=TimestampPrecision.SECOND,
        ),
        "Owners": {
            "PrimaryOwner": {"PersonId": f"P{rng.randrange(10**9):09d}"},
            "SecondaryOwners": [{"PersonId": f"P{rng.randrange(10**9):09d}"}],
        },
        "Tags": ["fleet", rng.choice(["red", "blue", "green"])],
        "Notes": "registered at the county office " + "x" * rng.randrange(20, 40),
    }


def documents(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [document(i) for i in range(start, start + n)]


def as_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, default=str)
