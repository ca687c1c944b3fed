"""ExportJournalToS3 jobs: the journal written in QLDB's export format and S3 key layout
(``ledger.proof.bucket.export_to_bucket``) under ``ROOT/.exports/<bucket>/``, so that an
S3 sync tool, or a reader written for QLDB exports, takes it as it is.  The job is done
when the request returns: DescribeJournalS3Export first sees it COMPLETED."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from ledger.errors import DataError, ServiceError
from ledger.proof.bucket import export_to_bucket
from ledger.server.catalog import ExportRecord

EXPORTS_DIR = ".exports"


def bucket_dir(root: Path, bucket: str) -> Path:
    return root / EXPORTS_DIR / bucket


def export_job(db: Any, job: ExportRecord, root: Path) -> None:
    """Write the export ``job`` describes from the open ledger ``db``."""
    try:
        export_to_bucket(
            db,
            bucket_dir(root, job.bucket),
            job.prefix,
            start=_dt.datetime.fromtimestamp(job.start, _dt.UTC),
            end=_dt.datetime.fromtimestamp(job.end, _dt.UTC),
            output_format=job.output_format,
            export_id=job.export_id,
            bucket=job.bucket,
        )
    except DataError as exc:
        raise ServiceError(
            "InvalidParameterException", str(exc), ParameterName="S3ExportConfiguration"
        ) from exc
