"""AWS Signature Version 4, checked on the server side (standard library only).

Every QLDB client signs every request (credential scope ``DATE/REGION/qldb/aws4_request``
for both APIs).  The server rebuilds the canonical request from what it *received*: the
raw path (encoded once more, as for every service but S3), the query re-encoded and
sorted, the headers the client listed in SignedHeaders in its order, and the body's
SHA-256; then compares signatures in constant time.  Each refusal is a ServiceError
named as AWS names it (UnrecognizedClientException, InvalidSignatureException...).
"""

from __future__ import annotations

import configparser
import datetime as _dt
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from ledger.errors import ServiceError

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "qldb"  # the signing name of both qldb and qldb-session
MAX_SKEW = _dt.timedelta(minutes=15)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]{64})\s*$"
)


@dataclass(frozen=True)
class Request:
    """What a signature covers, exactly as received."""

    method: str
    raw_path: str  # path and query, still percent-encoded
    headers: Mapping[str, Sequence[str]]  # lower-case name -> every value received
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Authorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def load_credentials(path: str | Path) -> dict[str, str]:
    """access key id -> secret from an AWS shared-credentials file (every profile)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.Error as exc:
        raise ServiceError("InvalidCredentialsFile", f"{path}: {exc}") from exc
    keys = {}
    for section in parser.sections():
        key = parser.get(section, "aws_access_key_id", fallback="").strip()
        secret = parser.get(section, "aws_secret_access_key", fallback="").strip()
        if key and secret:
            keys[key] = secret
    return keys


def refuse(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 403)


def parse_authorization(request: Request) -> Authorization:
    header = request.header("authorization")
    if header is None:
        raise refuse("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTH.match(header)
    if match is None:
        raise refuse(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"with algorithm {ALGORITHM}",
        )
    parts = match["cred"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise refuse("IncompleteSignatureException", f"malformed Credential {match['cred']!r}")
    signed = match["headers"].split(";")
    if "host" not in signed:
        raise refuse("InvalidSignatureException", "the Host header must be signed")
    return Authorization(parts[0], parts[1], parts[2], parts[3], signed, match["sig"])


def check_date(request: Request, auth: Authorization, now: _dt.datetime) -> str:
    """The request's X-Amz-Date, refused when missing, inconsistent or too far from now."""
    stamp = request.header("x-amz-date")
    if stamp is None:
        raise refuse("IncompleteSignatureException", "X-Amz-Date header is missing")
    try:
        when = _dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.UTC)
    except ValueError:
        raise refuse("IncompleteSignatureException", f"X-Amz-Date {stamp!r} is not yyyymmddThhmmssZ") from None
    if auth.date != stamp[:8]:
        raise refuse(
            "InvalidSignatureException",
            f"Credential date {auth.date} does not match X-Amz-Date {stamp}",
        )
    if abs(now - when) > MAX_SKEW:
        raise refuse(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is more than 15 minutes from the server's time "
            f"{now.strftime('%Y%m%dT%H%M%SZ')}",
        )
    return stamp


def canonical_request(request: Request, signed_headers: list[str]) -> str:
    path, _, query = request.raw_path.partition("?")
    lines = [request.method.upper(), quote(remove_dot_segments(path), safe="/~"), canonical_query(query)]
    for name in signed_headers:
        values = request.headers.get(name, ())
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    lines += ["", ";".join(signed_headers), hashlib.sha256(request.body).hexdigest()]
    return "\n".join(lines)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, with consecutive slashes merged (as AWS signers do)."""
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last


def canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&") if query else ():
        key, _, value = item.partition("=")
        pairs.append((_rfc3986(key), _rfc3986(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _rfc3986(text: str) -> str:
    return quote(unquote(text), safe="-_.~")


def signature(secret: str, auth: Authorization, stamp: str, canonical: str) -> str:
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    key = ("AWS4" + secret).encode("utf-8")
    for part in (auth.date, auth.region, auth.service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    request: Request,
    keys: Mapping[str, str] | None,
    now: _dt.datetime | None = None,
) -> str:
    """The access key that signed ``request``; ServiceError when it must be refused.

    ``keys`` None accepts any well-formed signature (``--allow-any-credentials``).
    """
    auth = parse_authorization(request)
    if auth.service != SERVICE:
        raise refuse(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{SERVICE}', not '{auth.service}'",
        )
    if keys is None:
        return auth.access_key
    secret = keys.get(auth.access_key)
    if secret is None:
        raise refuse(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    stamp = check_date(request, auth, now or _dt.datetime.now(_dt.UTC))
    declared = request.header("x-amz-content-sha256")
    if declared is not None and declared != hashlib.sha256(request.body).hexdigest():
        raise refuse(
            "InvalidSignatureException",
            "The provided x-amz-content-sha256 header does not match what was computed.",
        )
    expected = signature(secret, auth, stamp, canonical_request(request, auth.signed_headers))
    if not hmac.compare_digest(expected, auth.signature):
        raise refuse(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    return auth.access_key
