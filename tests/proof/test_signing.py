"""Signed digests: keys in PEM files, the versioned JSON format, tamper detection, and
a newer format read by this (older) version failing clearly, never as tampering."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from ledger.errors import DataError, VerificationError
from ledger.proof import signing
from ledger.query.context import BlockAddress

TIP = BlockAddress("KmA3ZZca7vAIiJAK9S5Iwl", 123)
DIGEST = base64.b64decode("6m6BMXobbJKpMhahwVthAEsN6awgnHK62Qq5McGP1Gk=")


@pytest.fixture
def key():
    return signing.generate_key()


@pytest.fixture
def signed(key):
    return signing.sign_digest(DIGEST, TIP, key, timestamp="2026-01-02T03:04:05.678Z")


def test_signed_digest_shape(signed, key):
    assert set(signed) == {
        "format",
        "formatVersion",
        "hashFormatVersion",
        "Digest",
        "DigestTipAddress",
        "timestamp",
        "algorithm",
        "publicKey",
        "signature",
    }
    assert signed["format"] == "ledger.signed-digest" and signed["formatVersion"] == 1
    assert signed["Digest"] == "6m6BMXobbJKpMhahwVthAEsN6awgnHK62Qq5McGP1Gk="
    assert signed["DigestTipAddress"] == {
        "IonText": '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:123}'
    }
    assert base64.b64decode(signed["publicKey"]) == signing.raw_public_key(key.public_key())
    assert len(base64.b64decode(signed["signature"])) == 64
    json.dumps(signed)  # plain JSON, nothing else


def test_signature_covers_the_documented_message(signed, key):
    fields = {k: v for k, v in signed.items() if k != "signature"}
    message = (
        b"ledger.signed-digest\n"
        + json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    )
    key.public_key().verify(base64.b64decode(signed["signature"]), message)


def test_round_trip_through_a_file(signed, key, tmp_path):
    path = tmp_path / "digest.json"
    path.write_text(json.dumps(signed, indent=2))
    saved = signing.load_saved_digest(path, trusted_key=key.public_key())
    assert (saved.digest, saved.tip, saved.signed) == (DIGEST, TIP, True)
    assert saved.timestamp == "2026-01-02T03:04:05.678Z"


CHANGES = {
    "Digest": base64.b64encode(bytes(32)).decode(),
    "DigestTipAddress": {"IonText": '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:122}'},
    "timestamp": "2030-01-01T00:00:00.000Z",
    "publicKey": base64.b64encode(
        signing.raw_public_key(signing.generate_key().public_key())
    ).decode(),
    "note": "an added field",
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_any_changed_or_added_field_breaks_the_signature(signed, field):
    with pytest.raises(VerificationError, match="signature does not verify"):
        signing.load_saved_digest({**signed, field: CHANGES[field]})


def test_another_signers_key_is_refused(signed):
    other = signing.generate_key()
    with pytest.raises(VerificationError, match="another key"):
        signing.load_saved_digest(signed, trusted_key=other.public_key())
    with pytest.raises(VerificationError, match="not signed"):
        signing.load_saved_digest(
            signing.qldb_digest_json(DIGEST, TIP), trusted_key=other.public_key()
        )


@pytest.mark.parametrize("field", ["formatVersion", "hashFormatVersion"])
def test_newer_format_is_unsupported_not_tampered(signed, field):
    newer = {**signed, field: 2}  # the signature no longer matches either: version comes first
    with pytest.raises(signing.UnsupportedFormatError, match="upgrade ledger") as info:
        signing.load_saved_digest(newer)
    assert not isinstance(info.value, VerificationError)
    assert isinstance(info.value, DataError)


def test_unknown_format_or_algorithm_is_unsupported(signed):
    with pytest.raises(signing.UnsupportedFormatError, match="format"):
        signing.load_saved_digest({**signed, "format": "something.else"})
    with pytest.raises(signing.UnsupportedFormatError, match="algorithm"):
        signing.load_saved_digest({**signed, "algorithm": "ML-DSA-65"})


def test_malformed_files_are_data_errors(signed, tmp_path):
    for bad in (
        {**signed, "Digest": "***"},
        {**signed, "signature": "AAAA"},
        {"Digest": "6m6BMXobbJKpMhahwVthAEsN6awgnHK62Qq5McGP1Gk="},
        {**signed, "formatVersion": "1"},
    ):
        with pytest.raises(DataError):
            signing.load_saved_digest(bad)
    path = tmp_path / "not.json"
    path.write_text("{")
    with pytest.raises(DataError, match="cannot read"):
        signing.load_saved_digest(path)


def test_key_files(tmp_path, key):
    private, public = tmp_path / "k.pem", tmp_path / "k.pem.pub"
    signing.save_private_key(key, private)
    signing.save_public_key(key.public_key(), public)
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    loaded = signing.load_private_key(private)
    assert signing.raw_public_key(loaded.public_key()) == signing.raw_public_key(key.public_key())
    for path in (private, public):  # a verifier may be handed either file
        assert signing.key_id(signing.load_public_key(path)) == signing.key_id(key.public_key())
    with pytest.raises(DataError, match="already exists"):
        signing.save_private_key(key, private)
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(DataError):
        signing.load_private_key(tmp_path / "junk.pem")
