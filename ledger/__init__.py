"""ledger: an embedded, QLDB-compatible, cryptographically verifiable ledger database.

>>> import ledger
>>> db = ledger.connect(":memory:")
>>> _ = db.execute("CREATE TABLE Person")
>>> _ = db.execute("INSERT INTO Person ?", {"GovId": "P1", "Name": "Ann"})
>>> [dict(r) for r in db.execute("SELECT * FROM Person WHERE GovId = ?", "P1")]
[{'GovId': 'P1', 'Name': 'Ann'}]
>>> db.close()
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

# Names load on first use (PEP 562), so that `ledger --version` and commands that do
# not need the engine start fast; `from ledger import connect` works as before.
if TYPE_CHECKING:
    from ledger.cursor import Cursor
    from ledger.database import Digest, Ledger, connect
    from ledger.errors import (
        DatabaseError,
        DataError,
        Error,
        IntegrityError,
        InterfaceError,
        InternalError,
        LimitExceededError,
        NoLedgerError,
        NotSupportedError,
        OccConflictError,
        OperationalError,
        ParseError,
        ProgrammingError,
        StorageError,
        TransactionExpiredError,
        VerificationError,
    )
    from ledger.ion import ion_type_of
    from ledger.journal.limits import Limits
    from ledger.journal.transaction import Transaction

_HOMES = {
    "Cursor": "ledger.cursor",
    "Digest": "ledger.database",
    "Ledger": "ledger.database",
    "connect": "ledger.database",
    "ion_type_of": "ledger.ion",
    "Limits": "ledger.journal.limits",
    "Transaction": "ledger.journal.transaction",
}
_SUBMODULES = frozenset(
    {"cursor", "database", "demo", "errors", "hashing", "ion", "journal", "load", "proof",
     "query", "storage", "cli"}
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"ledger.{name}")
    home = _HOMES.get(name, "ledger.errors" if name in __all__ else None)
    if home is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ion_type_of",
    "__version__",
    "connect",
    "Ledger",
    "Transaction",
    "Cursor",
    "Digest",
    "Limits",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "OccConflictError",
    "TransactionExpiredError",
    "LimitExceededError",
    "NoLedgerError",
    "StorageError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "ParseError",
    "NotSupportedError",
    "VerificationError",
]
