"""Release manifests: signing, verification and each reason for refusal."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.updater.manifest import (
    Artifact,
    ManifestError,
    key_id,
    manifest_document,
    sign,
    verify,
)
from services.updater.versions import ReleaseVersion, VersionError, running_version

SHA = "ab" * 32


def artifact(**changes: Any) -> Artifact:
    fields = {
        "name": "cloudlink_daemon-0.2.0-py3-none-any.whl",
        "size": 1234,
        "sha256": SHA,
        "url": "http://127.0.0.1:8800/2017-09-01/releases/stable/0.2.0+7/artifacts/x.whl",
    }
    return Artifact(**{**fields, **changes})


def document(**changes: Any) -> dict[str, Any]:
    base = manifest_document(
        ReleaseVersion("0.2.0", "7"),
        commit="abc123",
        channel="stable",
        published="2025-01-01T00:00:00+00:00",
        artifacts=[artifact()],
    )
    return {**base, **changes}


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def trusted(key: Ed25519PrivateKey) -> dict:
    return {key_id(key.public_key()): key.public_key()}


def test_a_signed_manifest_verifies(key: Ed25519PrivateKey, trusted: dict) -> None:
    release = verify(sign(document(), key), trusted)

    assert release.version == ReleaseVersion("0.2.0", "7")
    assert release.commit == "abc123"
    assert release.channel == "stable"
    assert release.artifacts == (artifact(),)
    assert release.key_id == key_id(key.public_key())


def test_a_changed_payload_breaks_the_signature(
    key: Ed25519PrivateKey, trusted: dict
) -> None:
    envelope = sign(document(), key)
    tampered = json.loads(base64.b64decode(envelope["payload"]))
    tampered["artifacts"][0]["sha256"] = "cd" * 32
    envelope["payload"] = base64.b64encode(json.dumps(tampered).encode()).decode()

    with pytest.raises(ManifestError, match="signature does not match"):
        verify(envelope, trusted)


def test_an_unknown_key_is_named(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()

    with pytest.raises(
        ManifestError, match=f"no trusted key.*{key_id(key.public_key())}"
    ):
        verify(sign(document(), key), {key_id(other.public_key()): other.public_key()})


def test_a_signature_by_another_key_under_a_trusted_id_fails(
    key: Ed25519PrivateKey, trusted: dict
) -> None:
    forged = sign(document(), Ed25519PrivateKey.generate())
    forged["signatures"][0]["key_id"] = key_id(key.public_key())

    with pytest.raises(ManifestError, match="signature does not match"):
        verify(forged, trusted)


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ([], "not a JSON object"),
        ({"signatures": []}, "payload is missing"),
        ({"payload": "***", "signatures": []}, "not base64"),
        ({"payload": "e30=", "signatures": []}, "not signed"),
    ],
)
def test_malformed_envelopes(envelope: Any, reason: str, trusted: dict) -> None:
    with pytest.raises(ManifestError, match=reason):
        verify(envelope, trusted)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"version": "two"}, "version 'two' is not dotted numbers"),
        ({"build_number": "7a"}, "build number"),
        ({"channel": "Stable!"}, "channel"),
        ({"artifacts": []}, "lists no artifacts"),
        ({"artifacts": [{"name": "../etc/passwd"}]}, "bad name"),
        ({"artifacts": [artifact(size=-1).__dict__]}, "size of"),
        ({"artifacts": [artifact(sha256="xyz").__dict__]}, "SHA-256 of"),
        ({"artifacts": [artifact(url="file:///etc/passwd").__dict__]}, "URL of"),
        ({"artifacts": [artifact().__dict__, artifact().__dict__]}, "twice"),
        ({"artifacts": [artifact(size=2**40).__dict__]}, "more than an update"),
    ],
)
def test_bad_fields_are_named(
    changes: dict, reason: str, key: Ed25519PrivateKey, trusted: dict
) -> None:
    with pytest.raises(ManifestError, match=reason):
        verify(sign(document(**changes), key), trusted)


def test_versions_order_by_numbers_then_build() -> None:
    assert ReleaseVersion("0.10.0", "1") > ReleaseVersion("0.9.9", "99")
    assert ReleaseVersion("1.2", "5") == ReleaseVersion("1.2.0", "5")
    assert ReleaseVersion("1.2.0", "6") > ReleaseVersion("1.2.0", "5")
    assert ReleaseVersion("1.2.0", "6").release_id == "1.2.0+6"
    assert str(ReleaseVersion("1.2.0", "6")) == "1.2.0 (build 6)"

    with pytest.raises(VersionError):
        ReleaseVersion("1.2.0-rc1", "1")


def test_a_development_build_counts_as_build_zero() -> None:
    assert running_version("0.1.0", "unknown") == ReleaseVersion("0.1.0", "0")
    assert running_version("0.1.0.dev3", "12") == ReleaseVersion("0.1.0", "12")
    assert running_version("0.1.0", "unknown") < ReleaseVersion("0.1.0", "1")
