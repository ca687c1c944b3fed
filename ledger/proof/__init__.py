"""The audit side of the ledger: proofs, verification, signed digests, export and import.

It reads what the write path (`ledger.journal`) stored and never writes the journal itself,
except `export.import_export`, which builds a new ledger from an export.
"""
