"""QLDB's control plane (service ``qldb``, rest-json): ledgers, tags, digests, proofs,
journal exports, and the Kinesis stream operations (answered "not supported" for now).

Every operation is one row of ``ControlPlane.routes``: method, path template, name,
handler.  A later change adds an operation (the Kinesis streams) by replacing its
handler with ``register``.  Handlers take a ``Call`` (path parameters already
percent-decoded, the query with repeated keys, the JSON body) and return the response
body; refusals are ServiceErrors with QLDB's names, statuses and modeled fields.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ledger import ion
from ledger.errors import DataError, Error, ProgrammingError, ServiceError
from ledger.proof import proofs
from ledger.server.catalog import (
    PERMISSIONS_MODES,
    Catalog,
    ExportRecord,
    LedgerRecord,
    check_name,
)
from ledger.server.sessions import SessionStore


@dataclass
class Call:
    """One control-plane request, parsed."""

    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    now: float = field(default_factory=time.time)

    def member(self, name: str, kind: type | tuple[type, ...], required: bool = False) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        value = body.get(name)
        if value is None:
            if required:
                raise invalid(name, f"{name} is required")
            return None
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise invalid(name, f"{name} has the wrong type ({type(value).__name__})")
        return value

    def first(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    template: tuple[str, ...]  # path segments; "{x}" binds a parameter
    operation: str

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        if method != self.method or len(segments) != len(self.template):
            return None
        params = {}
        for part, seg in zip(self.template, segments, strict=True):
            if part.startswith("{"):
                params[part[1:-1]] = unquote(seg)
            elif part != seg:
                return None
        return params


def invalid(parameter: str, message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, ParameterName=parameter)


def precondition(name: str, message: str, kind: str = "LEDGER") -> ServiceError:
    return ServiceError(
        "ResourcePreconditionNotMetException", message, 412, ResourceType=kind, ResourceName=name
    )


ROUTES = [
    ("POST", "/ledgers", "CreateLedger"),
    ("GET", "/ledgers", "ListLedgers"),
    ("GET", "/ledgers/{name}", "DescribeLedger"),
    ("PATCH", "/ledgers/{name}", "UpdateLedger"),
    ("DELETE", "/ledgers/{name}", "DeleteLedger"),
    ("PATCH", "/ledgers/{name}/permissions-mode", "UpdateLedgerPermissionsMode"),
    ("POST", "/ledgers/{name}/digest", "GetDigest"),
    ("POST", "/ledgers/{name}/block", "GetBlock"),
    ("POST", "/ledgers/{name}/revision", "GetRevision"),
    ("POST", "/ledgers/{name}/journal-s3-exports", "ExportJournalToS3"),
    ("GET", "/ledgers/{name}/journal-s3-exports", "ListJournalS3ExportsForLedger"),
    ("GET", "/ledgers/{name}/journal-s3-exports/{exportId}", "DescribeJournalS3Export"),
    ("GET", "/journal-s3-exports", "ListJournalS3Exports"),
    ("POST", "/ledgers/{name}/journal-kinesis-streams", "StreamJournalToKinesis"),
    ("GET", "/ledgers/{name}/journal-kinesis-streams", "ListJournalKinesisStreamsForLedger"),
    ("GET", "/ledgers/{name}/journal-kinesis-streams/{streamId}", "DescribeJournalKinesisStream"),
    ("DELETE", "/ledgers/{name}/journal-kinesis-streams/{streamId}", "CancelJournalKinesisStream"),
    ("POST", "/tags/{resourceArn}", "TagResource"),
    ("DELETE", "/tags/{resourceArn}", "UntagResource"),
    ("GET", "/tags/{resourceArn}", "ListTagsForResource"),
]
STREAM_OPERATIONS = (
    "StreamJournalToKinesis",
    "ListJournalKinesisStreamsForLedger",
    "DescribeJournalKinesisStream",
    "CancelJournalKinesisStream",
)
MAX_TAGS = 200


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _page_args(call: Call) -> tuple[int, str | None]:
    raw = call.first("max_results")
    size = 100
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise invalid("MaxResults", f"MaxResults must be 1 to 100, got {raw!r}")
        size = int(raw)
    token = call.first("next_token")
    if token is None:
        return size, None
    try:
        return size, base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid("NextToken", f"NextToken {token!r} was not issued by this server") from None


def _next_token(after: str) -> str:
    return base64.b64encode(after.encode("utf-8")).decode("ascii")


def paged(items: list[Any], key: Callable[[Any], str], call: Call) -> tuple[list[Any], str | None]:
    """One page of ``items`` (sorted by ``key``) after the request's NextToken."""
    size, after = _page_args(call)
    if after is not None:
        items = [item for item in items if key(item) > after]
    page = items[:size]
    return page, _next_token(key(page[-1])) if len(items) > size else None


def _check_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise invalid("Tags", "Tags must be a map of strings to strings")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.startswith("aws:"):
            raise invalid(
                "Tags", f"tag {key!r}: keys are 1-128 characters (not aws:...), values up to 256"
            )
    return dict(tags)


def _ion_text(holder: Any, name: str, required: bool = True) -> str | None:
    if holder is None and not required:
        return None
    if not isinstance(holder, dict) or not isinstance(holder.get("IonText"), str):
        raise invalid(name, f"{name} must be {{\"IonText\": \"...\"}}")
    text: str = holder["IonText"]
    return text


class ControlPlane:
    """The control-plane operations over a Catalog (and the SessionStore, to end the
    sessions of a deleted ledger)."""

    def __init__(
        self,
        catalog: Catalog,
        sessions: SessionStore,
        region: str,
        account_id: str,
        exporter: Callable[[Any, ExportRecord], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self.region = region
        self.account_id = account_id
        self.exporter = exporter
        self.routes = [Route(m, tuple(_segments(p)), op) for m, p, op in ROUTES]
        self.handlers: dict[str, Handler] = {
            op: self._not_supported if op in STREAM_OPERATIONS else getattr(self, "_" + _snake(op))
            for _, _, op in ROUTES
        }

    def register(self, operation: str, handler: Handler) -> None:
        """Serve ``operation`` (one of ROUTES) with ``handler``."""
        if operation not in self.handlers:
            raise ValueError(f"no route for operation {operation!r}")
        self.handlers[operation] = handler

    def resolve(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        """(operation, path parameters) for a raw path; InvalidParameterException if none."""
        segments = _segments(path)
        for route in self.routes:
            params = route.match(method, segments)
            if params is not None:
                return route.operation, params
        raise invalid("path", f"no QLDB operation is {method} {path}")

    def call(self, operation: str, call: Call) -> dict[str, Any]:
        return self.handlers[operation](call)

    # -- shapes --------------------------------------------------------------------------
    def arn(self, name: str) -> str:
        return f"arn:aws:qldb:{self.region}:{self.account_id}:ledger/{name}"

    def _described(self, record: LedgerRecord) -> dict[str, Any]:
        return {
            "Name": record.name,
            "Arn": self.arn(record.name),
            "State": record.state,
            "CreationDateTime": record.created,
            "PermissionsMode": record.permissions_mode,
            "DeletionProtection": record.deletion_protection,
            "EncryptionDescription": {
                "KmsKeyArn": record.kms_key,
                "EncryptionStatus": "ENABLED",
            },
        }

    def _record(self, call: Call) -> LedgerRecord:
        return self.catalog.get(check_name(call.params["name"]))

    # -- ledgers ---------------------------------------------------------------------------
    def _create_ledger(self, call: Call) -> dict[str, Any]:
        name = check_name(call.member("Name", str, required=True))
        mode = call.member("PermissionsMode", str, required=True)
        if mode not in PERMISSIONS_MODES:
            raise invalid("PermissionsMode", f"PermissionsMode must be ALLOW_ALL or STANDARD, got {mode!r}")
        protection = call.member("DeletionProtection", bool)
        record = LedgerRecord(
            name=name,
            created=call.now,
            permissions_mode=mode,
            deletion_protection=True if protection is None else protection,
            kms_key=call.member("KmsKey", str) or "AWS_OWNED_KMS_KEY",
            tags=_check_tags(call.member("Tags", dict) or {}),
        )
        self.catalog.create(record)
        described = self._described(record)
        described["State"] = "CREATING"  # as QLDB answered; ACTIVE from the first Describe
        described["KmsKeyArn"] = described.pop("EncryptionDescription")["KmsKeyArn"]
        return described

    def _describe_ledger(self, call: Call) -> dict[str, Any]:
        return self._described(self._record(call))

    def _list_ledgers(self, call: Call) -> dict[str, Any]:
        page, token = paged(list(self.catalog.records()), lambda r: r.name, call)
        result: dict[str, Any] = {
            "Ledgers": [
                {"Name": r.name, "State": r.state, "CreationDateTime": r.created} for r in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def _update_ledger(self, call: Call) -> dict[str, Any]:
        record = self._record(call)
        protection = call.member("DeletionProtection", bool)
        kms = call.member("KmsKey", str)
        if protection is not None:
            record.deletion_protection = protection
        if kms is not None:
            record.kms_key = kms
        self.catalog.save(record)
        described = self._described(record)
        del described["PermissionsMode"]
        return described

    def _update_ledger_permissions_mode(self, call: Call) -> dict[str, Any]:
        record = self._record(call)
        mode = call.member("PermissionsMode", str, required=True)
        if mode not in PERMISSIONS_MODES:
            raise invalid("PermissionsMode", f"PermissionsMode must be ALLOW_ALL or STANDARD, got {mode!r}")
        record.permissions_mode = mode
        self.catalog.save(record)
        return {"Name": record.name, "Arn": self.arn(record.name), "PermissionsMode": mode}

    def _delete_ledger(self, call: Call) -> dict[str, Any]:
        record = self._record(call)
        self.catalog.check_deletable(record)
        self.sessions.end_ledger(record.name)
        self.catalog.delete(record.name)
        return {}

    # -- tags ------------------------------------------------------------------------------
    def _tagged(self, call: Call) -> LedgerRecord:
        arn = call.params["resourceArn"]
        prefix = f"arn:aws:qldb:{self.region}:{self.account_id}:ledger/"
        if not arn.startswith(prefix):
            raise invalid(
                "ResourceArn",
                f"ResourceArn {arn!r} is not a ledger ARN of this server ({prefix}NAME)",
            )
        return self.catalog.get(check_name(arn[len(prefix):], "ResourceArn"))

    def _tag_resource(self, call: Call) -> dict[str, Any]:
        record = self._tagged(call)
        tags = _check_tags(call.member("Tags", dict, required=True))
        merged = {**record.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise invalid("Tags", f"a ledger may have {MAX_TAGS} tags; this would make {len(merged)}")
        record.tags = merged
        self.catalog.save(record)
        return {}

    def _untag_resource(self, call: Call) -> dict[str, Any]:
        record = self._tagged(call)
        keys = call.query.get("tagKeys")
        if not keys:
            raise invalid("TagKeys", "TagKeys is required (tagKeys=KEY, repeated)")
        record.tags = {k: v for k, v in record.tags.items() if k not in keys}
        self.catalog.save(record)
        return {}

    def _list_tags_for_resource(self, call: Call) -> dict[str, Any]:
        return {"Tags": dict(self._tagged(call).tags)}

    # -- digests and proofs ----------------------------------------------------------------
    def _ledger(self, call: Call) -> Any:
        return self.catalog.open(self._record(call).name)

    def _get_digest(self, call: Call) -> dict[str, Any]:
        digest = self._ledger(call).digest()
        if digest.tip.sequence_no < 0:
            raise precondition(
                call.params["name"],
                f"Ledger {call.params['name']!r} has no committed block yet: a digest "
                "covers at least one block",
            )
        return {
            "Digest": base64.b64encode(digest.digest).decode("ascii"),
            "DigestTipAddress": {"IonText": digest.tip_ion_text()},
        }

    def _get_block(self, call: Call) -> dict[str, Any]:
        db = self._ledger(call)
        address = _ion_text(call.member("BlockAddress", dict, required=True), "BlockAddress")
        tip = _ion_text(call.member("DigestTipAddress", dict), "DigestTipAddress", required=False)
        block, proof = _proved(lambda: db.get_block(address, tip), "BlockAddress")
        result: dict[str, Any] = {"Block": {"IonText": ion.dumps_text(block)}}
        if proof is not None:
            result["Proof"] = {"IonText": proofs.proof_ion_text(proof)}
        return result

    def _get_revision(self, call: Call) -> dict[str, Any]:
        db = self._ledger(call)
        address = _ion_text(call.member("BlockAddress", dict, required=True), "BlockAddress")
        doc_id = call.member("DocumentId", str, required=True)
        tip = _ion_text(call.member("DigestTipAddress", dict), "DigestTipAddress", required=False)
        revision, proof = _proved(lambda: db.get_revision(address, doc_id, tip), "BlockAddress")
        result: dict[str, Any] = {"Revision": {"IonText": ion.dumps_text(revision)}}
        if proof is not None:
            result["Proof"] = {"IonText": proofs.proof_ion_text(proof)}
        return result

    # -- journal exports -----------------------------------------------------------------------
    def _export_journal_to_s3(self, call: Call) -> dict[str, Any]:
        record = self._record(call)
        start = _epoch(call.member("InclusiveStartTime", (int, float), required=True), "InclusiveStartTime")
        end = _epoch(call.member("ExclusiveEndTime", (int, float), required=True), "ExclusiveEndTime")
        if not start < end:
            raise invalid("ExclusiveEndTime", "ExclusiveEndTime must be after InclusiveStartTime")
        if end > call.now + 1:
            raise invalid("ExclusiveEndTime", "ExclusiveEndTime must not be in the future")
        config = call.member("S3ExportConfiguration", dict, required=True)
        bucket = config.get("Bucket")
        prefix = config.get("Prefix")
        encryption = config.get("EncryptionConfiguration")
        if not isinstance(bucket, str) or not _bucket_ok(bucket):
            raise invalid("Bucket", f"S3 bucket name {bucket!r} is not valid (3-63 of a-z 0-9 . -)")
        if not isinstance(prefix, str) or len(prefix) > 128 or ".." in prefix.split("/"):
            raise invalid("Prefix", "Prefix must be a string of at most 128 characters")
        if not isinstance(encryption, dict) or encryption.get("ObjectEncryptionType") not in (
            "SSE_KMS",
            "SSE_S3",
            "NO_ENCRYPTION",
        ):
            raise invalid(
                "EncryptionConfiguration",
                "EncryptionConfiguration.ObjectEncryptionType must be SSE_KMS, SSE_S3 or NO_ENCRYPTION",
            )
        role = call.member("RoleArn", str, required=True)
        fmt = call.member("OutputFormat", str) or "ION_TEXT"
        if fmt not in ("ION_BINARY", "ION_TEXT", "JSON"):
            raise invalid("OutputFormat", f"OutputFormat must be ION_BINARY, ION_TEXT or JSON, got {fmt!r}")
        if self.exporter is None:
            raise precondition(record.name, "journal exports are not available in this server")
        job = ExportRecord(
            export_id=ion.new_id(),
            ledger_name=record.name,
            created=call.now,
            start=start,
            end=end,
            bucket=bucket,
            prefix=prefix,
            encryption=dict(encryption),
            role_arn=role,
            output_format=fmt,
        )
        self.exporter(self.catalog.open(record.name), job)
        self.catalog.save_export(job)
        return {"ExportId": job.export_id}

    def _export_description(self, job: ExportRecord) -> dict[str, Any]:
        return {
            "LedgerName": job.ledger_name,
            "ExportId": job.export_id,
            "ExportCreationTime": job.created,
            "Status": job.status,
            "InclusiveStartTime": job.start,
            "ExclusiveEndTime": job.end,
            "S3ExportConfiguration": {
                "Bucket": job.bucket,
                "Prefix": job.prefix,
                "EncryptionConfiguration": job.encryption,
            },
            "RoleArn": job.role_arn,
            "OutputFormat": job.output_format,
        }

    def _describe_journal_s3_export(self, call: Call) -> dict[str, Any]:
        record = self._record(call)
        job = self.catalog.get_export(call.params["exportId"])
        if job is None or job.ledger_name != record.name:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Export {call.params['exportId']!r} of ledger {record.name!r} does not exist",
                404,
                ResourceType="EXPORT",
                ResourceName=call.params["exportId"],
            )
        return {"ExportDescription": self._export_description(job)}

    def _list_exports(self, call: Call, ledger_name: str | None) -> dict[str, Any]:
        jobs = [j for j in self.catalog.exports() if ledger_name in (None, j.ledger_name)]
        page, token = paged(jobs, lambda j: f"{j.created:020.6f}{j.export_id}", call)
        result: dict[str, Any] = {"JournalS3Exports": [self._export_description(j) for j in page]}
        if token:
            result["NextToken"] = token
        return result

    def _list_journal_s3_exports(self, call: Call) -> dict[str, Any]:
        return self._list_exports(call, None)

    def _list_journal_s3_exports_for_ledger(self, call: Call) -> dict[str, Any]:
        return self._list_exports(call, self._record(call).name)

    # -- not yet ----------------------------------------------------------------------------------
    def _not_supported(self, call: Call) -> dict[str, Any]:
        name = call.params.get("name", "")
        if name:
            self._record(call)  # an unknown ledger is still ResourceNotFound
        raise precondition(
            name,
            "Kinesis journal streams are not supported by ledger serve yet "
            "(StreamJournalToKinesis, DescribeJournalKinesisStream, "
            "ListJournalKinesisStreamsForLedger, CancelJournalKinesisStream)",
            "STREAM",
        )


def _proved(fn: Callable[[], Any], parameter: str) -> Any:
    try:
        return fn()
    except (DataError, ProgrammingError) as exc:
        raise invalid(parameter, str(exc)) from exc
    except ServiceError:
        raise
    except Error as exc:
        raise invalid(parameter, str(exc)) from exc


def _epoch(value: float, name: str) -> float:
    try:
        _dt.datetime.fromtimestamp(value, _dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise invalid(name, f"{name} {value!r} is not a time") from None
    return float(value)


def _bucket_ok(bucket: str) -> bool:
    return 3 <= len(bucket) <= 63 and all(c.islower() or c.isdigit() or c in ".-" for c in bucket) and bucket[0].isalnum()


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
