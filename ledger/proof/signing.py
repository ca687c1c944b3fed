"""Saved and signed digests: the file a ledger's owner or auditor keeps.

A digest saved outside the ledger is what lets ``ledger verify`` detect a rewritten or
truncated journal (see docs/verification.md).  Two JSON shapes are read:

* **plain**, QLDB's GetDigest output, unchanged, so QLDB tools read it::

      {"Digest": "<base64>", "DigestTipAddress": {"IonText": "{strandId:\\"…\\",sequenceNo:N}"}}

  It carries no version: it is hash format 1 (QLDB's rules, QLDB-HASHING.md).

* **signed** (format ``ledger.signed-digest``, version 1): the same two fields, so a
  QLDB verifier that reads ``Digest`` and ``DigestTipAddress`` still works, plus::

      "format": "ledger.signed-digest", "formatVersion": 1, "hashFormatVersion": 1,
      "timestamp": "2026-01-02T03:04:05.678Z", "algorithm": "Ed25519",
      "publicKey": "<base64 of the 32-byte raw Ed25519 public key>",
      "signature": "<base64 of the 64-byte Ed25519 signature>"

  The signature covers ``SIGNED_PREFIX`` followed by the canonical JSON of every other
  field (keys sorted, separators ``,`` and ``:``, ASCII only).

A reader that meets a newer ``formatVersion`` or ``hashFormatVersion`` raises
``UnsupportedFormatError`` (a DataError: "upgrade ledger"), never a tamper alarm.
Keys are Ed25519 in PEM files (PKCS#8 private key, SubjectPublicKeyInfo public key);
never pickle.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import DataError, VerificationError
from ledger.hashing import HASH_SIZE
from ledger.proof.proofs import address_ion_text, parse_address
from ledger.query.context import BlockAddress

FORMAT = "ledger.signed-digest"
FORMAT_VERSION = 1
HASH_FORMAT_VERSION = 1  # QLDB-HASHING.md: Ion Hash SHA-256, dot, RFC 6962 tree shape
ALGORITHM = "Ed25519"
SIGNED_PREFIX = b"ledger.signed-digest\n"


class UnsupportedFormatError(DataError):
    """A file written by a newer ledger: this version cannot judge it (not tampering)."""


@dataclass(frozen=True)
class SavedDigest:
    """A digest and the tip it covers, as saved by ``ledger get-digest``."""

    digest: bytes
    tip: BlockAddress
    timestamp: str | None = None
    public_key: bytes | None = None  # the signer's raw key, when signed

    @property
    def signed(self) -> bool:
        return self.public_key is not None

    def to_qldb_json(self) -> dict[str, Any]:
        """QLDB's GetDigest shape."""
        return qldb_digest_json(self.digest, self.tip)


def qldb_digest_json(digest: bytes, tip: BlockAddress) -> dict[str, Any]:
    return {
        "Digest": base64.b64encode(digest).decode("ascii"),
        "DigestTipAddress": {"IonText": address_ion_text(tip)},
    }


# -- keys -----------------------------------------------------------------------------------
def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def save_private_key(key: Ed25519PrivateKey, path: str | os.PathLike[str]) -> None:
    """PEM (PKCS#8, unencrypted), created with mode 0600; refuses to overwrite."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(Path(path), pem, 0o600)


def save_public_key(key: Ed25519PublicKey, path: str | os.PathLike[str]) -> None:
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(Path(path), pem, 0o644)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise DataError(f"{path} already exists; not overwriting a key file") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise DataError(f"{path} holds a {type(key).__name__}; signing needs an Ed25519 key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file (a public key, or a private key's half)."""
    raw = Path(path).read_bytes()
    if b"PRIVATE KEY" in raw:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(raw)
    except ValueError as exc:
        raise DataError(f"{path} is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise DataError(f"{path} holds a {type(key).__name__}; expected an Ed25519 key")
    return key


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | bytes) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256 of the raw public key."""
    raw = key if isinstance(key, bytes) else raw_public_key(key)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- signing --------------------------------------------------------------------------------
def _canonical(fields: dict[str, Any]) -> bytes:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return SIGNED_PREFIX + body.encode("ascii")


def _now_text() -> str:
    now = _dt.datetime.now(_dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def sign_digest(
    digest: bytes, tip: BlockAddress, key: Ed25519PrivateKey, *, timestamp: str | None = None
) -> dict[str, Any]:
    """The signed-digest JSON object (format version 1) for ``digest`` at ``tip``."""
    fields: dict[str, Any] = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "hashFormatVersion": HASH_FORMAT_VERSION,
        **qldb_digest_json(digest, tip),
        "timestamp": timestamp or _now_text(),
        "algorithm": ALGORITHM,
        "publicKey": base64.b64encode(raw_public_key(key.public_key())).decode("ascii"),
    }
    signature = key.sign(_canonical(fields))
    return {**fields, "signature": base64.b64encode(signature).decode("ascii")}


# -- reading --------------------------------------------------------------------------------
def load_saved_digest(
    source: str | os.PathLike[str] | dict[str, Any],
    *,
    trusted_key: Ed25519PublicKey | None = None,
) -> SavedDigest:
    """A saved digest from a file (or its parsed JSON), plain or signed.

    A signed one must carry a valid signature (VerificationError otherwise) and, when
    ``trusted_key`` is given, be signed by it.  A plain one cannot satisfy a
    ``trusted_key``.  UnsupportedFormatError for a newer format; DataError if malformed.
    """
    doc = source if isinstance(source, dict) else _read_json(Path(source))
    if "format" in doc or "formatVersion" in doc:
        return _load_signed(doc, trusted_key)
    if trusted_key is not None:
        raise VerificationError(
            "the saved digest is not signed, so it cannot be checked against the trusted key"
        )
    digest, tip = _digest_fields(doc)
    return SavedDigest(digest, tip)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read a saved digest from {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise DataError(f"{path}: a saved digest is a JSON object")
    return doc


def _b64(value: Any, what: str, size: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataError(f"{what} is not base64: {exc}") from exc
    if size is not None and len(raw) != size:
        raise DataError(f"{what} has {len(raw)} bytes, expected {size}")
    return raw


def _digest_fields(doc: dict[str, Any]) -> tuple[bytes, BlockAddress]:
    try:
        digest_text, tip_text = doc["Digest"], doc["DigestTipAddress"]["IonText"]
    except (KeyError, TypeError):
        raise DataError(
            'a saved digest needs "Digest" and "DigestTipAddress": {"IonText": …} '
            "(the shape of ledger get-digest and QLDB's GetDigest)"
        ) from None
    return _b64(digest_text, "Digest", HASH_SIZE), parse_address(str(tip_text))


def _check_versions(doc: dict[str, Any]) -> None:
    if doc.get("format") != FORMAT:
        raise UnsupportedFormatError(
            f"unknown saved-digest format {doc.get('format')!r}; this ledger reads {FORMAT!r}"
        )
    for name, supported in (
        ("formatVersion", FORMAT_VERSION),
        ("hashFormatVersion", HASH_FORMAT_VERSION),
    ):
        version = doc.get(name)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise DataError(f"signed digest: {name} must be a positive integer, got {version!r}")
        if version > supported:
            raise UnsupportedFormatError(
                f"signed digest has {name} {version}; this version of ledger reads "
                f"{supported} and older: upgrade ledger to check it (this is not a sign "
                "of tampering)"
            )
    if doc.get("algorithm") != ALGORITHM:
        raise UnsupportedFormatError(
            f"signed digest uses algorithm {doc.get('algorithm')!r}; this ledger knows {ALGORITHM}"
        )


def _load_signed(doc: dict[str, Any], trusted_key: Ed25519PublicKey | None) -> SavedDigest:
    _check_versions(doc)
    digest, tip = _digest_fields(doc)
    raw_key = _b64(doc.get("publicKey"), "publicKey", 32)
    signature = _b64(doc.get("signature"), "signature", 64)
    fields = {k: v for k, v in doc.items() if k != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, _canonical(fields))
    except InvalidSignature:
        raise VerificationError(
            "the saved digest's signature does not verify: the file was altered after "
            f"signing (signer key {key_id(raw_key)})"
        ) from None
    if trusted_key is not None and raw_public_key(trusted_key) != raw_key:
        raise VerificationError(
            "the saved digest was signed by another key",
            expected=key_id(trusted_key),
            computed=key_id(raw_key),
        )
    return SavedDigest(digest, tip, timestamp=str(doc.get("timestamp")), public_key=raw_key)
