"""The update channel: signed release manifests and their artifacts.

The channel only distributes. It holds no signing key and checks no
signature: daemons trust the keys they carry, not the channel, which is
also what lets tests serve a tampered release through it. Publishing is
accepted from the emulator's own host only (``make release`` runs there);
fetching needs the access token of any linked system's account.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file

from cloud.emulator import emulator
from cloud.errors import ApiError, invalid_request
from cloud.tokens import TokenError
from cloud.web import json_body, request_extra
from services.common.state import StateStore
from services.updater.manifest import (
    MAX_ARTIFACT_SIZE,
    Release,
    read_manifest,
)

log = logging.getLogger(__name__)

bp = Blueprint("releases", __name__, url_prefix="/2017-09-01/releases")

_CHANNEL = re.compile(r"[a-z][a-z0-9-]{0,31}")
_RELEASE_ID = re.compile(r"\d[0-9.]{0,40}\+\d{1,20}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_CHUNK = 256 * 1024


def releases_dir() -> Path:
    """Where published releases are kept, one folder per channel."""

    return emulator().config.state_dir / "releases"


@bp.get("/<channel>/latest")
def latest(channel: str) -> Response:
    """The envelope of the channel's most recently published release."""

    _require_token()
    path = _channel_dir(channel) / "latest.json"

    if not path.is_file():
        raise ApiError(404, "not_found", f"Nothing is published on channel {channel}")

    response = Response(path.read_bytes(), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<channel>/<release_id>/artifacts/<name>")
def artifact(channel: str, release_id: str, name: str) -> Response:
    """An artifact; Range requests let a cut download carry on."""

    _require_token()
    path = _artifact_path(channel, release_id, name)

    if not path.is_file():
        raise ApiError(404, "not_found", f"No artifact {name} in release {release_id}")

    return send_file(
        path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=name,
        conditional=True,
        etag=True,
        max_age=0,
    )


@bp.put("/<channel>/<release_id>/artifacts/<name>")
def upload(channel: str, release_id: str, name: str) -> tuple[Response, int]:
    """Stores an artifact of a release about to be published."""

    _require_local()
    path = _artifact_path(channel, release_id, name)
    request.max_content_length = MAX_ARTIFACT_SIZE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=path.parent)
    size = 0

    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := request.stream.read(_CHUNK):
                out.write(chunk)
                size += len(chunk)

        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

    log.info(
        "Stored artifact %s of release %s (%d bytes)",
        name,
        release_id,
        size,
        extra=request_extra(),
    )
    return jsonify({"name": name, "size": size}), 201


@bp.post("/<channel>")
def publish(channel: str) -> tuple[Response, int]:
    """Publishes a release envelope as the channel's latest."""

    _require_local()
    envelope = json_body()
    release = _release_of(envelope, channel)
    folder = _channel_dir(channel) / release.version.release_id

    missing = [
        a.name
        for a in release.artifacts
        if not (folder / "artifacts" / a.name).is_file()
    ]

    if missing:
        raise invalid_request(
            f"Upload the artifacts before publishing; missing: {', '.join(missing)}"
        )

    StateStore(folder / "envelope.json", mode=0o644).save(envelope)
    StateStore(_channel_dir(channel) / "latest.json", mode=0o644).save(envelope)
    log.info(
        "Published release %s on channel %s",
        release.version.release_id,
        channel,
        extra=request_extra(),
    )
    return jsonify({"channel": channel, "release": release.version.release_id}), 201


def _release_of(envelope: Any, channel: str) -> Release:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
        raise invalid_request("The body must be a release envelope with a payload")

    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        release = read_manifest(payload)
    except (binascii.Error, ValueError) as exc:
        raise invalid_request(f"The release envelope cannot be read: {exc}") from None

    if not isinstance(envelope.get("signatures"), list) or not envelope["signatures"]:
        raise invalid_request("The release envelope carries no signature")

    if release.channel != channel:
        raise invalid_request(
            f"The manifest is for channel {release.channel}, not {channel}"
        )

    return release


def _channel_dir(channel: str) -> Path:
    if not _CHANNEL.fullmatch(channel):
        raise invalid_request(f"{channel!r} is not a channel name")

    return releases_dir() / channel


def _artifact_path(channel: str, release_id: str, name: str) -> Path:
    if not _RELEASE_ID.fullmatch(release_id):
        raise invalid_request(f"{release_id!r} is not a release id such as 1.2.0+17")

    if not _NAME.fullmatch(name):
        raise invalid_request(f"{name!r} is not an artifact name")

    return _channel_dir(channel) / release_id / "artifacts" / name


def _require_local() -> None:
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False

    if not local:
        raise ApiError(
            403, "forbidden", "Releases are published from the emulator's host only"
        )


def _require_token() -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")

    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthorized",
            "A bearer access token is required",
            headers={"WWW-Authenticate": 'Bearer realm="CloudLink"'},
        )

    try:
        emulator().verifier.verify(token.strip())
    except TokenError as exc:
        log.info("Refused an access token: %s", exc, extra=request_extra())
        raise ApiError(
            401,
            "invalid_token",
            "The access token is invalid or has expired",
            headers={
                "WWW-Authenticate": 'Bearer realm="CloudLink", error="invalid_token"'
            },
        ) from None
