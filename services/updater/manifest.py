"""Release manifests: their form, their Ed25519 signature, and its check.

A manifest travels as an envelope: the manifest's exact JSON bytes in
base64, and signatures over those bytes. Verifying the bytes as received,
rather than a re-serialised copy, leaves no room for two readings of one
document.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.updater.versions import ReleaseVersion, VersionError

# Artifact names become file names on the host: no folders, no dot files.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHANNEL = re.compile(r"[a-z][a-z0-9-]{0,31}")

# A daemon release is a few megabytes; anything far larger is refused before
# a byte of it is fetched.
MAX_ARTIFACT_SIZE = 512 * 1024 * 1024


class ManifestError(ValueError):
    """A manifest refused, with the reason shown on the dashboard and logged."""


@dataclass(frozen=True)
class Artifact:
    """One file of a release, as the manifest describes it."""

    name: str
    size: int
    sha256: str
    url: str
    kind: str = "wheel"


@dataclass(frozen=True)
class Release:
    """A verified release manifest."""

    version: ReleaseVersion
    commit: str
    channel: str
    published: str
    artifacts: tuple[Artifact, ...]
    key_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The manifest's fields, as stored beside an installed version."""

        return {
            "version": self.version.version,
            "build_number": self.version.build_number,
            "commit": self.commit,
            "channel": self.channel,
            "published": self.published,
            "artifacts": [asdict(a) for a in self.artifacts],
            "key_id": self.key_id,
        }


def key_id(public: Ed25519PublicKey) -> str:
    """A short name of a public key: its SHA-256, first 16 hex digits."""

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """A public key as the keys files write it: raw bytes in base64."""

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from its base64 form; ValueError when it is not one."""

    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a public key must be base64") from None

    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")

    return Ed25519PublicKey.from_public_bytes(raw)


def manifest_document(
    version: ReleaseVersion,
    commit: str,
    channel: str,
    published: str,
    artifacts: list[Artifact],
) -> dict[str, Any]:
    """The manifest to sign, in the form ``read_manifest`` accepts."""

    return {
        "version": version.version,
        "build_number": version.build_number,
        "commit": commit,
        "channel": channel,
        "published": published,
        "artifacts": [asdict(a) for a in artifacts],
    }


def sign(document: dict[str, Any], private: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed envelope of a manifest document."""

    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    signature = private.sign(payload)
    return {
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {
                "key_id": key_id(private.public_key()),
                "signature": base64.b64encode(signature).decode(),
            }
        ],
    }


def verify(envelope: Any, keys: dict[str, Ed25519PublicKey]) -> Release:
    """The release an envelope carries, once a trusted key's signature holds.

    ``keys`` maps key ids to the public keys the daemon trusts. Raises
    ManifestError with the reason when the envelope is malformed, signed by
    no trusted key, or its signature does not match.
    """

    if not isinstance(envelope, dict):
        raise ManifestError("the release manifest is not a JSON object")

    payload = _decode(envelope.get("payload"), "the manifest payload")
    signatures = envelope.get("signatures")

    if not isinstance(signatures, list) or not signatures:
        raise ManifestError("the release manifest is not signed")

    known = [s for s in signatures if isinstance(s, dict) and s.get("key_id") in keys]

    if not known:
        named = ", ".join(
            str(s.get("key_id")) for s in signatures if isinstance(s, dict)
        )
        raise ManifestError(
            f"the release manifest is signed by no trusted key (signed by: "
            f"{named or 'nothing readable'})"
        )

    for entry in known:
        signature = _decode(entry.get("signature"), "the signature")

        try:
            keys[str(entry["key_id"])].verify(signature, payload)
        except InvalidSignature:
            continue

        return read_manifest(payload, str(entry["key_id"]))

    raise ManifestError(
        "the release manifest's signature does not match its content: it was "
        "altered after signing or signed with another key"
    )


def read_manifest(payload: bytes, signed_by: str = "") -> Release:
    """The release in a manifest's JSON bytes; ManifestError naming the field."""

    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ManifestError("the release manifest is not valid JSON") from None

    if not isinstance(document, dict):
        raise ManifestError("the release manifest is not a JSON object")

    try:
        version = ReleaseVersion(
            _text(document, "version"), _text(document, "build_number")
        )
    except VersionError as exc:
        raise ManifestError(f"the release manifest's {exc}") from None

    channel = _text(document, "channel")

    if not _CHANNEL.fullmatch(channel):
        raise ManifestError(f"the release manifest's channel {channel!r} is invalid")

    items = document.get("artifacts")

    if not isinstance(items, list) or not items:
        raise ManifestError("the release manifest lists no artifacts")

    artifacts = tuple(_artifact(item, index) for index, item in enumerate(items))

    if len({a.name for a in artifacts}) != len(artifacts):
        raise ManifestError("the release manifest lists an artifact twice")

    return Release(
        version=version,
        commit=_text(document, "commit", required=False),
        channel=channel,
        published=_text(document, "published", required=False),
        artifacts=artifacts,
        key_id=signed_by,
    )


def _artifact(item: Any, index: int) -> Artifact:
    where = f"artifact {index + 1}"

    if not isinstance(item, dict):
        raise ManifestError(f"the release manifest's {where} is not an object")

    name = _text(item, "name")

    if not _NAME.fullmatch(name):
        raise ManifestError(f"the release manifest's {where} has the bad name {name!r}")

    size = item.get("size")

    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"the size of {name} is not a whole number of bytes")

    if size > MAX_ARTIFACT_SIZE:
        raise ManifestError(f"{name} is {size} bytes, more than an update may be")

    sha256 = _text(item, "sha256").lower()

    if not _SHA256.fullmatch(sha256):
        raise ManifestError(f"the SHA-256 of {name} is not 64 hex digits")

    url = _text(item, "url")

    if not url.startswith(("https://", "http://")):
        raise ManifestError(f"the URL of {name} is not an http(s) URL")

    kind = _text(item, "kind", required=False) or "wheel"
    return Artifact(name=name, size=size, sha256=sha256, url=url, kind=kind)


def _text(document: dict[str, Any], key: str, required: bool = True) -> str:
    value = document.get(key)

    if value is None and not required:
        return ""

    if not isinstance(value, str) or (required and not value):
        raise ManifestError(f"the release manifest has no valid {key}")

    return value


def _decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ManifestError(f"{what} is missing")

    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ManifestError(f"{what} is not base64") from None
