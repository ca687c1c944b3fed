"""Every SigV4 refusal, seen by boto3 (and raw HTTP for a tampered body): the error code
each client gets back, as JSON."""

from __future__ import annotations

import datetime
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def code(fn):
    try:
        fn()
        return "OK"
    except ClientError as exc:
        return exc.response["Error"]["Code"]


def raw(method, url, body, key, secret, region="us-east-1", tamper=None):
    request = AWSRequest(method, url, headers={"Content-Type": "application/json"}, data=body)
    SigV4Auth(Credentials(key, secret), "qldb", region).add_auth(request)
    data = tamper(body) if tamper else body
    prepared = urllib.request.Request(url, data=data, method=method, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared) as response:
            return response.status, "OK"
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("x-amzn-ErrorType")


def main(ledger):
    url = os.environ["AWS_ENDPOINT_URL_QLDB"]
    key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    seen = {}
    seen["signed"] = code(lambda: boto3.client("qldb").list_ledgers())
    seen["session_token"] = code(
        lambda: boto3.client("qldb", aws_session_token="IQoJb3JpZ2luX2VjEJr//////////token").list_ledgers()
    )
    seen["unsigned"] = code(
        lambda: boto3.client("qldb", config=Config(signature_version=botocore.UNSIGNED)).list_ledgers()
    )
    seen["unknown_key"] = code(
        lambda: boto3.client("qldb", aws_access_key_id="AKIDUNKNOWN", aws_secret_access_key="x").list_ledgers()
    )
    seen["wrong_secret"] = code(
        lambda: boto3.client("qldb", aws_access_key_id=key, aws_secret_access_key=secret + "x").list_ledgers()
    )
    seen["session_wrong_secret"] = code(
        lambda: boto3.client("qldb-session", aws_access_key_id=key, aws_secret_access_key="nope").send_command(StartSession={"LedgerName": ledger})
    )
    seen["session_signed"] = code(
        lambda: boto3.client("qldb-session").send_command(StartSession={"LedgerName": ledger})
    )
    real_now = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: real_now() - datetime.timedelta(minutes=20)
    seen["expired"] = code(lambda: boto3.client("qldb").list_ledgers())
    botocore.auth.get_current_datetime = real_now
    body = json.dumps({"Name": "tampered", "PermissionsMode": "ALLOW_ALL"}).encode()
    seen["tampered_body"] = raw("POST", url + "/ledgers", body, key, secret,
                                tamper=lambda b: b.replace(b"tampered", b"tampere2"))
    seen["untampered_body"] = raw("POST", url + "/ledgers", body, key, secret)
    seen["ledgers"] = sorted(x["Name"] for x in boto3.client("qldb").list_ledgers()["Ledgers"])
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
