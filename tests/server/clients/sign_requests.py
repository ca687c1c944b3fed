"""Sign request specs (JSON on stdin) with botocore's own SigV4 signer; print the headers
each request goes out with (Authorization, X-Amz-Date, X-Amz-Security-Token...).

Each spec: method, url, headers, body (text), region, key, secret, token (optional),
timestamp (yyyymmddThhmmssZ).  botocore signs every header given but its blacklist,
which covers Node's extra signed headers (content-length, x-amz-content-sha256...).
"""

from __future__ import annotations

import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(spec):
    moment = datetime.datetime.strptime(spec["timestamp"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda: moment  # sign "at" the spec's time
    request = AWSRequest(spec["method"], spec["url"], headers=spec["headers"], data=spec["body"].encode())
    credentials = Credentials(spec["key"], spec["secret"], spec.get("token"))
    SigV4Auth(credentials, "qldb", spec["region"]).add_auth(request)
    return dict(request.headers.items())


if __name__ == "__main__":
    print(json.dumps([sign(spec) for spec in json.load(sys.stdin)]))
