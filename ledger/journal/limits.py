"""QLDB's limits, as defaults that a ledger may raise or lower (never remove)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    documents_per_transaction: int = 40
    document_size: int = 128 * 1024  # bytes of Ion binary
    transaction_size: int = 4 * 1024 * 1024  # bytes of document Ion binary in one block
    transaction_timeout: float = 30.0  # seconds from BEGIN to COMMIT
    indexes_per_table: int = 5
    active_tables: int = 20
    statement_length: int = 100_000  # characters of PartiQL text

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not value or value < 0:
                raise ValueError(f"limit {name} must be positive, got {value!r}")
