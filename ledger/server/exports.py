"""ExportJournalToS3 jobs: the journal written in QLDB's export format and S3 key layout
under ``ROOT/.exports/<bucket>/``, complete when the request returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.errors import ServiceError
from ledger.server.catalog import ExportRecord

EXPORTS_DIR = ".exports"


def export_job(db: Any, job: ExportRecord, root: Path) -> None:
    """Write the export ``job`` describes from the open ledger ``db``."""
    raise ServiceError(
        "ResourcePreconditionNotMetException",
        "journal exports are not available yet",
        412,
        ResourceType="LEDGER",
        ResourceName=job.ledger_name,
    )
