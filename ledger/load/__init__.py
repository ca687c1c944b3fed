"""Loading files of documents into a table (``ledger load``, the shell's ``\\import``).

``readers`` turns JSON Lines, JSON arrays, Ion streams and CSV into records with
their file and line; ``loader`` commits them in whole transactions of at most the
per-transaction limit and says where to resume after a bad record.
"""

from __future__ import annotations

from ledger.load.loader import Loader, LoadResult, load, resume_hint, summary
from ledger.load.readers import FORMATS, Record, format_of, read

__all__ = [
    "FORMATS",
    "LoadResult",
    "Loader",
    "Record",
    "format_of",
    "load",
    "read",
    "resume_hint",
    "summary",
]
