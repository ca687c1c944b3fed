"""SigV4 verification (ledger/server/sigv4.py) against botocore's own signer.

Requests are generated (hypothesis): control-plane paths with percent-encoded ARNs,
repeated and empty query keys, header values with runs of spaces, session tokens,
and the extra headers the Node.js SDK signs.  botocore 1.40.60 signs them in the
clients' venv (tests/server/clients/sign_requests.py); the server's verifier must
accept every one, and refuse each after any signed part is changed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import CLIENTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import ServiceError
from ledger.server import sigv4

NOW = _dt.datetime(2026, 12, 6, 5, 22, 47, tzinfo=_dt.UTC)
STAMP = NOW.strftime("%Y%m%dT%H%M%SZ")
KEYS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AKID2": "s3cr3t"}

names = st.text("abcdefghijklmnopqrstuvwxyzABC0123456789-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith("-")
)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@st.composite
def requests(draw: Any) -> dict[str, Any]:
    ledger_name = draw(names)
    arn = f"arn:aws:qldb:us-east-1:000000000000:ledger/{ledger_name}"
    path = draw(
        st.sampled_from(
            [
                "/",
                f"/ledgers/{ledger_name}",
                f"/ledgers/{ledger_name}/journal-s3-exports",
                "/tags/" + quote(arn, safe=""),
                "/ledgers/" + quote(ledger_name + " x/y", safe=""),
            ]
        )
    )
    pairs = draw(st.lists(st.tuples(st.sampled_from(["tagKeys", "max_results", "next_token", "a b"]), text), max_size=4))
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    headers = {"Content-Type": draw(st.sampled_from(["application/x-amz-json-1.0", "application/json"]))}
    if draw(st.booleans()):
        headers["X-Amz-Target"] = "QLDBSession.SendCommand"
    body = draw(st.sampled_from(["", '{"StartSession": {"LedgerName": "x"}}', json.dumps({"Tags": {"k": "v  w"}})]))
    if draw(st.booleans()):  # what the Node.js SDK v3 signs besides
        headers.update(
            {
                "amz-sdk-invocation-id": "8b2d1c0e-1111-4222-8333-444455556666",
                "amz-sdk-request": "attempt=1; max=0",
                "content-length": str(len(body.encode())),
                "x-amz-content-sha256": hashlib.sha256(body.encode()).hexdigest(),
                "x-amz-user-agent": "aws-sdk-js/3.918.0   QLDB-Driver-for-Node.js-v3.1.0",
            }
        )
    key = draw(st.sampled_from(sorted(KEYS)))
    return {
        "method": draw(st.sampled_from(["GET", "POST", "DELETE", "PATCH"])),
        "url": f"http://127.0.0.1:8700{path}" + (f"?{query}" if query else ""),
        "headers": headers,
        "body": body,
        "region": draw(st.sampled_from(["us-east-1", "eu-west-2"])),
        "key": key,
        "secret": KEYS[key],
        "token": draw(st.one_of(st.none(), st.just("FQoGZXIvYXdzEJr//////////wEaDE+token=="))),
        "timestamp": STAMP,
    }


def botocore_sign(python: Path, specs: list[dict[str, Any]]) -> list[dict[str, str]]:
    proc = subprocess.run(
        [str(python), str(CLIENTS / "sign_requests.py")],
        input=json.dumps(specs),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    signed: list[dict[str, str]] = json.loads(proc.stdout)
    return signed


def received(spec: dict[str, Any], headers: dict[str, str]) -> sigv4.Request:
    """The request as the server receives it: Host from the URL, the raw path and query."""
    parts = urlsplit(spec["url"])
    lowered: dict[str, list[str]] = {k.lower(): [v] for k, v in headers.items()}
    lowered["host"] = [parts.netloc]
    raw = parts.path + (f"?{parts.query}" if parts.query else "")
    return sigv4.Request(spec["method"], raw, lowered, spec["body"].encode())


def refused(request: sigv4.Request, keys: dict[str, str] | None = KEYS, now: _dt.datetime = NOW) -> str:
    with pytest.raises(ServiceError) as info:
        sigv4.verify(request, keys, now)
    return info.value.code


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests(), min_size=30, max_size=30))
def test_botocore_signatures_verify_and_any_change_is_refused(client_python, specs):
    signed = botocore_sign(client_python, specs)
    for spec, headers in zip(specs, signed, strict=True):
        request = received(spec, headers)
        assert sigv4.verify(request, KEYS, NOW) == spec["key"]
        # the body, the path, the query, a signed header: each change is refused
        changed_body = sigv4.Request(request.method, request.raw_path, request.headers, request.body + b" ")
        assert refused(changed_body) == "InvalidSignatureException"
        path, _, query = request.raw_path.partition("?")
        moved = sigv4.Request(request.method, path + "x" + (f"?{query}" if query else ""), request.headers, request.body)
        assert refused(moved) == "InvalidSignatureException"
        extra_query = sigv4.Request(request.method, request.raw_path + ("&" if query else "?") + "z=1", request.headers, request.body)
        assert refused(extra_query) == "InvalidSignatureException"
        other_method = sigv4.Request("PUT", request.raw_path, request.headers, request.body)
        assert refused(other_method) == "InvalidSignatureException"
        # an unsigned header may change freely
        unsigned = dict(request.headers, **{"user-agent": ["something else"]})
        assert sigv4.verify(sigv4.Request(request.method, request.raw_path, unsigned, request.body), KEYS, NOW)
        if spec["token"]:
            tampered = dict(request.headers, **{"x-amz-security-token": ["other"]})
            assert refused(sigv4.Request(request.method, request.raw_path, tampered, request.body)) == "InvalidSignatureException"


def _one(client_python: Path) -> tuple[dict[str, Any], sigv4.Request]:
    spec = {
        "method": "DELETE",
        "url": "http://127.0.0.1:8700/tags/" + quote("arn:aws:qldb:us-east-1:000000000000:ledger/ops", safe="") + "?tagKeys=a&tagKeys=b&tagKeys=a",
        "headers": {},
        "body": "",
        "region": "us-east-1",
        "key": "AKIDEXAMPLE",
        "secret": KEYS["AKIDEXAMPLE"],
        "timestamp": STAMP,
    }
    (headers,) = botocore_sign(client_python, [spec])
    return spec, received(spec, headers)


def test_refusals_name_awss_errors(client_python):
    spec, request = _one(client_python)
    assert sigv4.verify(request, KEYS, NOW) == "AKIDEXAMPLE"
    assert refused(request, {"OTHER": "x"}) == "UnrecognizedClientException"
    assert refused(request, {"AKIDEXAMPLE": "wrong"}) == "InvalidSignatureException"
    late = NOW + _dt.timedelta(minutes=16)
    assert refused(request, now=late) == "InvalidSignatureException"
    assert sigv4.verify(request, KEYS, NOW + _dt.timedelta(minutes=14))  # within the skew
    unsigned = {k: v for k, v in request.headers.items() if k != "authorization"}
    assert refused(sigv4.Request(request.method, request.raw_path, unsigned, b"")) == "MissingAuthenticationTokenException"
    garbled = dict(request.headers, authorization=["AWS4-HMAC-SHA256 Credential=x"])
    assert refused(sigv4.Request(request.method, request.raw_path, garbled, b"")) == "IncompleteSignatureException"
    # --allow-any-credentials: any well-formed signature, still not a garbled one
    assert sigv4.verify(request, None, late) == "AKIDEXAMPLE"
    assert refused(sigv4.Request(request.method, request.raw_path, garbled, b""), None) == "IncompleteSignatureException"


def test_the_signing_name_is_qldb_for_both_apis(client_python):
    spec, request = _one(client_python)
    header = request.headers["authorization"][0].replace("/qldb/", "/qldb-session/")
    wrong = dict(request.headers, authorization=[header])
    assert refused(sigv4.Request(request.method, request.raw_path, wrong, b"")) == "InvalidSignatureException"


def test_canonical_path_is_encoded_again_as_for_every_service_but_s3():
    # the ARN arrives encoded once (%3A); the canonical URI encodes it again (%253A)
    request = sigv4.Request("GET", "/tags/arn%3Aaws%3Aqldb/./x/../y//z?b=2&a=1&a=0", {"host": ["h"]}, b"")
    lines = sigv4.canonical_request(request, ["host"]).split("\n")
    assert lines[1] == "/tags/arn%253Aaws%253Aqldb/y/z"
    assert lines[2] == "a=0&a=1&b=2"
    assert sigv4.remove_dot_segments("") == "/"


def test_credentials_file_gives_every_profiles_key(credentials_file):
    from conftest import KEY_ID, OTHER_KEY_ID, OTHER_SECRET, SECRET

    assert sigv4.load_credentials(credentials_file) == {KEY_ID: SECRET, OTHER_KEY_ID: OTHER_SECRET}
