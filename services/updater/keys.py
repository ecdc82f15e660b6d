"""The public keys release manifests must be signed with.

The daemon carries its keys in ``keys/release-keys.json``. A development
set-up adds the key of its own release signer (``make release``) through
a second file of the same form, read at every check so a key made after
the daemon started counts.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.updater.manifest import key_id, public_key_from_text, public_key_text

log = logging.getLogger(__name__)

PACKAGED_KEYS = Path(__file__).with_name("keys") / "release-keys.json"


class KeysError(ValueError):
    """A keys file that cannot be used."""


def read_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """The keys in one keys file, by key id; KeysError naming the problem."""

    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise KeysError(f"cannot read the keys file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeysError(f"the keys file {path} is not valid JSON") from None

    entries = document.get("keys") if isinstance(document, dict) else None

    if not isinstance(entries, list):
        raise KeysError(f"the keys file {path} has no list of keys")

    keys: dict[str, Ed25519PublicKey] = {}

    for index, entry in enumerate(entries):
        try:
            public = public_key_from_text(str(entry["public_key"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise KeysError(f"key {index + 1} in {path} is not usable: {exc}") from None

        keys[key_id(public)] = public

    return keys


def trusted_keys(extra_file: str) -> dict[str, Ed25519PublicKey]:
    """The packaged keys, plus those of ``extra_file`` when one is set."""

    keys = read_keys(PACKAGED_KEYS)

    if extra_file:
        keys.update(read_keys(Path(extra_file)))

    return keys


def keys_document(public: Ed25519PublicKey, name: str) -> dict[str, object]:
    """A keys file holding one key."""

    return {
        "keys": [
            {
                "key_id": key_id(public),
                "public_key": public_key_text(public),
                "name": name,
            }
        ]
    }
