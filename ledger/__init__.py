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
