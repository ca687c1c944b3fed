"""A QLDB Streams consumer written the way AWS's sample consumers are, and a verifier.

``handle`` follows aws-samples/amazon-qldb-streams-dmv-sample-lambda-python
(``qldb_streaming_sample/app.py``) and aws-samples/amazon-qldb-streaming-amazon-
opensearch-service-sample-python (``helpers/filtered_records_generator.py``): a Lambda
event's Kinesis records go through ``aws_kinesis_agg.deaggregator.deaggregate_records``,
each record's ``kinesis.data`` is base64-decoded and loaded with
``amazon.ion.simpleion.loads``, and REVISION_DETAILS records are read through
``payload.revision.data``, ``payload.revision.metadata`` and ``payload.tableInfo``.
Nothing in it knows about this project: if it reads our records, so do theirs.

``verify_*`` check the hashes the way QLDB's documentation describes (the Ion hash H,
``dot`` and merkle roots of ledger.hashing, which the Ion Hash conformance suite and
real QLDB vectors check).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import amazon.ion.simpleion as ion
from aws_kinesis_agg.deaggregator import deaggregate_records

from ledger.hashing import dot, ion_hash, merkle_root

REVISION_DETAILS_RECORD_TYPE = "REVISION_DETAILS"


# -- the sample consumers' way ---------------------------------------------------------------
def get_data_metdata_from_revision_record(revision_record: Any) -> list[Any]:
    revision_data = None
    revision_metadata = None
    if ("payload" in revision_record) and ("revision" in revision_record["payload"]):
        if "data" in revision_record["payload"]["revision"]:
            revision_data = revision_record["payload"]["revision"]["data"]
        if "metadata" in revision_record["payload"]["revision"]:
            revision_metadata = revision_record["payload"]["revision"]["metadata"]
    return [revision_data, revision_metadata]


def get_table_info_from_revision_record(revision_record: Any) -> Any:
    if ("payload" in revision_record) and "tableInfo" in revision_record["payload"]:
        return revision_record["payload"]["tableInfo"]
    return None


def handle(event_records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a sample Lambda handler sees: every user record, deaggregated and parsed."""
    out = []
    for record in deaggregate_records(event_records):
        payload = base64.b64decode(record["kinesis"]["data"])
        ion_record = ion.loads(payload)
        parsed: dict[str, Any] = {
            "record": ion_record,
            "partitionKey": record["kinesis"]["partitionKey"],
            "sequenceNumber": record["kinesis"]["sequenceNumber"],
            "subSequenceNumber": record["kinesis"].get("subSequenceNumber"),
        }
        if ("recordType" in ion_record) and (ion_record["recordType"] == REVISION_DETAILS_RECORD_TYPE):
            revision_data, revision_metadata = get_data_metdata_from_revision_record(ion_record)
            parsed["table_info"] = get_table_info_from_revision_record(ion_record)
            parsed["revision_data"] = revision_data
            parsed["revision_metadata"] = revision_metadata
        out.append(parsed)
    return out


def lambda_event(kinesis_records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """boto3 GetRecords output in the shape Lambda hands a Kinesis trigger."""
    return [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "sequenceNumber": r["SequenceNumber"],
                "partitionKey": r["PartitionKey"],
                "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                "data": base64.b64encode(r["Data"]).decode("utf-8"),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventName": "aws:kinesis:record",
        }
        for r in kinesis_records
    ]


# -- reading a Kinesis stream back ----------------------------------------------------------
def read_stream(client: Any, name: str) -> list[dict[str, Any]]:
    """Every Kinesis record in ``name``, shard by shard, each shard in its order."""
    out: list[dict[str, Any]] = []
    shards = client.list_shards(StreamName=name)["Shards"]
    for shard in shards:
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10000)
            out.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return out


def consume(client: Any, name: str) -> list[dict[str, Any]]:
    return handle(lambda_event(read_stream(client, name)))


# -- verification (QLDB's rules) ------------------------------------------------------------
def verify_summary(payload: Any, previous: bytes | None) -> bytes:
    """Check a BLOCK_SUMMARY's hashes; returns its blockHash."""
    entries = [bytes(e) for e in payload["entriesHashList"]]
    entries_hash = bytes(payload["entriesHash"])
    assert merkle_root(entries) == entries_hash, "entriesHash is not the root of entriesHashList"
    prev = bytes(payload["previousBlockHash"]) if "previousBlockHash" in payload else b""
    block_hash = bytes(payload["blockHash"])
    assert dot(entries_hash, prev) == block_hash, "blockHash != dot(entriesHash, previousBlockHash)"
    assert ion_hash(payload["transactionInfo"]) in entries, "H(transactionInfo) not in entriesHashList"
    summaries = payload.get("revisionSummaries") or []
    if summaries:
        root = merkle_root([bytes(s["hash"]) for s in summaries])
        assert root in entries, "the revisions' root is not in entriesHashList"
    if previous is not None:
        assert prev == previous, "previousBlockHash is not the previous block's blockHash"
    return block_hash


def revision_hash(revision: Any) -> bytes:
    metadata_hash = ion_hash(revision["metadata"])
    if "dataHash" in revision:
        return dot(metadata_hash, bytes(revision["dataHash"]))
    if "data" in revision:
        return dot(metadata_hash, ion_hash(revision["data"]))
    return metadata_hash  # a deleted document's last revision


@dataclass
class Checked:
    blocks: list[int]
    revisions: int
    keys: dict[str, list[int]]


def check_delivery(parsed: list[dict[str, Any]], expected: list[Any]) -> Checked:
    """Every expected record arrived; per partition key nothing came before what precedes
    it; every block and revision verifies.  ``expected``: ledger.stream Records."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for r in expected:
        wanted[r.partition_key].append(_position(r.value, r.seq))
    seen: dict[str, set[int]] = defaultdict(set)
    arrival: dict[str, list[int]] = defaultdict(list)
    summaries: dict[int, Any] = {}
    revisions: dict[tuple[int, str], Any] = {}
    for p in parsed:
        value, key = p["record"], p["partitionKey"]
        pos = _position(value, None)
        earlier = [w for w in wanted[key] if w < pos]
        missing = [w for w in earlier if w not in seen[key]]
        assert not missing, f"key {key}: record {pos} arrived before {missing[:3]}"
        seen[key].add(pos)
        arrival[key].append(pos)
        if value["recordType"] == "BLOCK_SUMMARY":
            summaries[pos] = value["payload"]
        elif value["recordType"] == "REVISION_DETAILS":
            revisions[(pos, str(value["payload"]["revision"]["metadata"]["id"]))] = value["payload"]
    for key, positions in wanted.items():
        lost = set(positions) - seen[key]
        assert not lost, f"key {key}: {len(lost)} records never arrived, e.g. {sorted(lost)[:3]}"
    previous = None
    for seq in sorted(summaries):
        previous = verify_summary(summaries[seq], previous if seq - 1 in summaries else None)
    for (seq, doc_id), payload in revisions.items():
        revision = payload["revision"]
        assert revision_hash(revision) == bytes(revision["hash"]), f"revision {doc_id} in {seq}"
        listed = {(str(s.get("documentId")), bytes(s["hash"])) for s in summaries[seq]["revisionSummaries"]}
        assert (doc_id, bytes(revision["hash"])) in listed
    return Checked(sorted(summaries), len(revisions), dict(arrival))


def _position(value: Any, seq: int | None) -> int:
    kind = value["recordType"]
    if kind == "CONTROL":
        return -1 if value["payload"]["controlRecordType"] == "CREATED" else 1 << 62
    if kind == "BLOCK_SUMMARY":
        return int(value["payload"]["blockAddress"]["sequenceNo"])
    return int(value["payload"]["revision"]["blockAddress"]["sequenceNo"])
