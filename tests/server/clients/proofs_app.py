"""GetDigest, GetRevision and GetBlock through boto3's `qldb` client, each proof folded
with pyqldb's own hash helper (QldbHash.dot) and compared with the digest, as the
AWS DMV sample's verifier does.  Data is written with pyqldb first."""

from __future__ import annotations

import base64
import json
import sys

import boto3
from amazon.ion.simpleion import loads
from pyqldb.driver.qldb_driver import QldbDriver
from pyqldb.util.qldb_hash import QldbHash


def fold(leaf: bytes, proof_text: str) -> bytes:
    acc = QldbHash(leaf)
    for node in loads(proof_text):
        acc = acc.dot(QldbHash(bytes(node)))
    return acc.get_qldb_hash()


def main(name: str) -> None:
    driver = QldbDriver(name)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Car"))
    for i in range(4):
        driver.execute_lambda(lambda tx, i=i: tx.execute_statement("INSERT INTO Car ?", {"VIN": f"V{i}"}))
    (first,) = driver.execute_lambda(
        lambda tx: list(tx.execute_statement(
            "SELECT r.blockAddress, r.metadata.id FROM _ql_committed_Car AS r WHERE r.data.VIN = 'V1'"))
    )
    driver.close()
    where = first["blockAddress"]
    address = {"IonText": f'{{strandId:"{where["strandId"]}",sequenceNo:{int(where["sequenceNo"])}}}'}
    qldb = boto3.client("qldb")
    digest = qldb.get_digest(Name=name)
    tip = digest["DigestTipAddress"]
    revision = qldb.get_revision(Name=name, BlockAddress=address, DocumentId=first["id"], DigestTipAddress=tip)
    block = qldb.get_block(Name=name, BlockAddress=address, DigestTipAddress=tip)
    no_proof = qldb.get_block(Name=name, BlockAddress=address)
    rev = loads(revision["Revision"]["IonText"])
    blk = loads(block["Block"]["IonText"])
    print(json.dumps({
        "digest_len": len(digest["Digest"]),
        "tip": tip["IonText"],
        "revision_ok": fold(bytes(rev["hash"]), revision["Proof"]["IonText"]) == digest["Digest"],
        "block_ok": fold(bytes(blk["blockHash"]), block["Proof"]["IonText"]) == digest["Digest"],
        "tampered_ok": fold(bytes(rev["hash"])[::-1], revision["Proof"]["IonText"]) == digest["Digest"],
        "revision_vin": str(rev["data"]["VIN"]),
        "block_seq": int(blk["blockAddress"]["sequenceNo"]),
        "no_proof_keys": sorted(k for k in no_proof if k != "ResponseMetadata"),
        "digest_b64": base64.b64encode(digest["Digest"]).decode(),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
