"""Journal exports in QLDB's S3 layout, written to a directory that stands for a bucket.

What ExportJournalToS3 wrote (QLDB Developer Guide, "Journal export output in QLDB"),
object keys being paths under ``bucket_dir``:

* ``<prefix><exportId>.started.manifest`` — the request echoed: ledgerName, exportId,
  inclusiveStartTime, exclusiveEndTime, bucket, prefix, objectEncryptionType,
  outputFormat;
* the data objects ``<prefix>YYYY/MM/DD/HH/<strandId>.<firstSeq>-<lastSeq>.ion``
  (``.json`` for JSON Lines);
* ``<prefix><exportId>.<strandId>.completed.manifest`` — ``{keys: [...]}``, the data
  object keys in order, prefix included (tools read each key from the bucket as it is),
  written last.

The prefix is used as given: end it with ``/`` for a folder, as AWS's samples do
(``<prefix><exportId>.started.manifest`` is how they find the manifests).  Every export
has a fresh 22-character id, so any number of exports can share one prefix; the
readers (``verify_export``, ``import_export``) pick one by id, or the newest.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path
from typing import Any

from ledger import ion
from ledger.errors import DataError
from ledger.journal.journal import Journal
from ledger.proof.export import FORMATS, ExportRequest, ExportResult, check_format, write_export

OUTPUT_FORMATS = {name: fmt for fmt, name in FORMATS.items()}  # "ION_TEXT" -> "ion_text"
MAX_PREFIX = 128  # S3ExportConfiguration.Prefix: at most 128 characters
_EXPORT_ID = re.compile(r"^[0-9A-Za-z]{22}$")


def export_to_bucket(
    journal_or_ledger: Any,
    bucket_dir: str | os.PathLike[str],
    prefix: str = "",
    *,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    output_format: str = "ION_TEXT",
    export_id: str | None = None,
    bucket: str | None = None,
    blocks_per_file: int = 1000,
) -> ExportResult:
    """Export the blocks with ``start <= blockTimestamp < end`` under ``bucket_dir``.

    ``journal_or_ledger``: a ``Journal`` or an open ``ledger.Ledger``.  ``start`` and
    ``end`` follow ExportJournalToS3 (start before end, end not in the future); without
    them, the whole journal up to now.  ``output_format``: ION_TEXT (default), ION_BINARY or JSON.  ``export_id``:
    a 22-character base62 id to use (a server assigns it before the export runs);
    default a fresh one.  ``bucket``: the name the manifest records (default the
    directory's name).  Earlier exports under ``bucket_dir`` are left as they are.
    """
    journal: Journal = getattr(journal_or_ledger, "journal", journal_or_ledger)
    fmt = _format(output_format)
    check_format(fmt)
    start, end = _time_range(start, end)
    root = Path(bucket_dir)
    if root.exists() and not root.is_dir():
        raise DataError(f"{root} is not a directory; a bucket directory holds the exports")
    root.mkdir(parents=True, exist_ok=True)
    request = ExportRequest(
        root,
        _check_prefix(prefix),
        start,
        end,
        fmt,
        blocks_per_file,
        _check_export_id(export_id) if export_id is not None else ion.new_id(),
        bucket if bucket is not None else root.resolve().name,
    )
    if (root / request.prefix).joinpath(f"{request.export_id}.started.manifest").exists():
        raise DataError(f"export {request.export_id} already exists under {prefix!r}")
    return write_export(journal, request)


def _format(output_format: str) -> str:
    name = output_format.upper()
    if name not in OUTPUT_FORMATS:
        raise DataError(
            f"output format must be one of {', '.join(OUTPUT_FORMATS)}, got {output_format!r}"
        )
    return OUTPUT_FORMATS[name]


def _utc(moment: _dt.datetime) -> _dt.datetime:
    return moment.replace(tzinfo=_dt.UTC) if moment.tzinfo is None else moment


def _time_range(
    start: _dt.datetime | None, end: _dt.datetime | None
) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    start = None if start is None else _utc(start)
    end = None if end is None else _utc(end)
    if end is not None and end > _dt.datetime.now(_dt.UTC):
        raise DataError(f"ExclusiveEndTime {end.isoformat()} is in the future")
    if start is not None and end is not None and start >= end:
        raise DataError(
            f"InclusiveStartTime {start.isoformat()} must be before "
            f"ExclusiveEndTime {end.isoformat()}"
        )
    return start, end


def _check_prefix(prefix: str) -> str:
    if len(prefix) > MAX_PREFIX:
        raise DataError(f"prefix is {len(prefix)} characters; S3 export prefixes have at most 128")
    parts = prefix.split("/")
    if prefix.startswith("/") or ".." in parts or "\\" in prefix or "\0" in prefix:
        raise DataError(f"prefix {prefix!r} must be a relative key prefix without '..'")
    return prefix


def _check_export_id(export_id: str) -> str:
    if not _EXPORT_ID.match(export_id):
        raise DataError(f"export id {export_id!r} is not 22 base62 characters")
    return export_id


__all__ = ["OUTPUT_FORMATS", "export_to_bucket"]
