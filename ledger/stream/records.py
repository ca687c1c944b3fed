"""QLDB Streams' record shapes, built from the journal's blocks.

QLDB wrote three kinds of records to Kinesis, each ``{qldbStreamArn, recordType,
payload}`` in Ion binary (QLDB developer guide, "QLDB stream records in Kinesis"):

- ``CONTROL``: ``payload: {controlRecordType: "CREATED" | "COMPLETED"}``, first and last;
- ``BLOCK_SUMMARY``: the block without its revisions' bodies: ``blockAddress,
  transactionId, blockTimestamp, blockHash, entriesHash, previousBlockHash,
  entriesHashList, transactionInfo, revisionSummaries: [{hash, documentId}]``;
- ``REVISION_DETAILS``: ``payload: {tableInfo: {tableName, tableId}, revision:
  {blockAddress, hash, data, metadata}}``, one per revision of a user table.

Every hash is the journal's own, so a consumer can check a summary's blockHash and each
revision's hash as QLDB's documentation shows (docs/stream.md).  Where QLDB leaves us
free: a block that redacts carries its ``redactionInfo`` too (so its entriesHashList
can be checked); revisions of the system table ``information_schema.user_tables`` (the
journaled DDL) appear in ``revisionSummaries`` but get no REVISION_DETAILS record, as
QLDB streamed only user tables; a redacted revision carries ``dataHash`` for ``data``.

Partition keys: a revision's is its document id (as QLDB's); CONTROL and BLOCK_SUMMARY
records share the ledger's strand id, so within one key they arrive in block order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger import ion

CONTROL = "CONTROL"
BLOCK_SUMMARY = "BLOCK_SUMMARY"
REVISION_DETAILS = "REVISION_DETAILS"
CREATED = "CREATED"
COMPLETED = "COMPLETED"
SYSTEM_TABLE_ID = "0000000000000000000000"  # information_schema.user_tables

# where a CONTROL record sits among the blocks (Record.seq)
CREATED_SEQ = -1
COMPLETED_SEQ = 1 << 62

_SUMMARY_FIELDS = (
    "blockAddress",
    "transactionId",
    "blockTimestamp",
    "blockHash",
    "entriesHash",
    "previousBlockHash",
    "entriesHashList",
    "transactionInfo",
    "redactionInfo",
)


@dataclass(frozen=True)
class Record:
    """One stream record: its Ion value, its Kinesis partition key and its block."""

    value: dict[str, Any]
    partition_key: str
    seq: int  # the block's sequenceNo; CREATED_SEQ / COMPLETED_SEQ for CONTROL records

    @property
    def record_type(self) -> str:
        return str(self.value["recordType"])


def stream_arn(
    ledger_name: str, stream_id: str, region: str = "local", account: str = "000000000000"
) -> str:
    """``arn:aws:qldb:REGION:ACCOUNT:stream/LEDGER/STREAM_ID``, QLDB's form."""
    return f"arn:aws:qldb:{region}:{account}:stream/{ledger_name}/{stream_id}"


def _record(arn: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"qldbStreamArn": arn, "recordType": kind, "payload": payload}


def control(arn: str, strand_id: str, kind: str) -> Record:
    """CONTROL ``CREATED`` (the stream's first record) or ``COMPLETED`` (its last)."""
    seq = CREATED_SEQ if kind == CREATED else COMPLETED_SEQ
    return Record(_record(arn, CONTROL, {"controlRecordType": kind}), strand_id, seq)


def block_records(arn: str, block: Mapping[str, Any]) -> list[Record]:
    """The BLOCK_SUMMARY of ``block``, then a REVISION_DETAILS per user-table revision."""
    address = block["blockAddress"]
    strand, seq = ion.text_of(address["strandId"]), int(address["sequenceNo"])
    revisions = list(block.get("revisions") or ())
    out = [Record(_record(arn, BLOCK_SUMMARY, summary_payload(block, revisions)), strand, seq)]
    tables = _tables(block)
    for revision in revisions:
        doc_id = _document_id(revision)
        table = tables.get(doc_id) if doc_id is not None else None
        if doc_id is None or table is None or table[1] == SYSTEM_TABLE_ID:
            continue
        payload = {
            "tableInfo": {"tableName": table[0], "tableId": table[1]},
            "revision": revision,
        }
        out.append(Record(_record(arn, REVISION_DETAILS, payload), doc_id, seq))
    return out


def summary_payload(block: Mapping[str, Any], revisions: list[Any]) -> dict[str, Any]:
    payload = {name: block[name] for name in _SUMMARY_FIELDS if name in block}
    if revisions:
        payload["revisionSummaries"] = [_summary(r) for r in revisions]
    return payload


def _summary(revision: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"hash": revision["hash"]}
    doc_id = _document_id(revision)
    if doc_id is not None:
        out["documentId"] = doc_id
    return out


def _document_id(revision: Mapping[str, Any]) -> str | None:
    metadata = revision.get("metadata")
    if not isinstance(metadata, Mapping) or "id" not in metadata:
        return None  # a bare {hash} revision (QLDB's system revisions, kept by import)
    return ion.text_of(metadata["id"])


def _tables(block: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """{documentId: (tableName, tableId)} from the block's transactionInfo.documents."""
    info = block.get("transactionInfo")
    documents = info.get("documents") if isinstance(info, Mapping) else None
    if not isinstance(documents, Mapping):
        return {}
    out = {}
    for doc_id, entry in documents.items():
        if isinstance(entry, Mapping) and "tableName" in entry and "tableId" in entry:
            out[ion.text_of(doc_id)] = (ion.text_of(entry["tableName"]), ion.text_of(entry["tableId"]))
    return out
