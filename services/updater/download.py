"""Resumable, verified downloads of release artifacts.

A download is written to ``<name>.part`` and carried on from its size with
an HTTP Range request, so a cut connection costs only what was not yet
received. Nothing is handed on before its size and SHA-256 match the
signed manifest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import requests

from services.updater.manifest import Artifact

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

Progress = Callable[[int, int], None]


class DownloadError(Exception):
    """A download that stopped before the end; what arrived is kept."""


class ArtifactRejectedError(Exception):
    """A downloaded artifact that is not the one the manifest describes."""


def artifact_path(folder: Path, artifact: Artifact) -> Path:
    """Where a verified artifact is kept: in a folder named by its hash.

    The file keeps its own name, which tools such as pip read.
    """

    return folder / artifact.sha256[:16] / artifact.name


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex."""

    digest = hashlib.sha256()

    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)

    return digest.hexdigest()


def fetch(
    session: requests.Session,
    artifact: Artifact,
    folder: Path,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    progress: Progress | None = None,
    verifying: Callable[[], None] | None = None,
) -> Path:
    """The verified artifact on disk, downloading what is missing of it.

    Raises DownloadError when the transfer stops (call again to carry on)
    and ArtifactRejectedError when the bytes differ from the manifest (the part
    file is removed, as resuming it could never succeed).
    """

    final = artifact_path(folder, artifact)

    if final.is_file():
        return final

    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    have = part.stat().st_size if part.exists() else 0

    if have > artifact.size:
        part.unlink()
        have = 0

    if have < artifact.size:
        _transfer(session, artifact, part, have, headers or {}, timeout, progress)

    if verifying is not None:
        verifying()

    _check(artifact, part)
    os.replace(part, final)
    return final


def _transfer(
    session: requests.Session,
    artifact: Artifact,
    part: Path,
    have: int,
    headers: dict[str, str],
    timeout: float,
    progress: Progress | None,
) -> None:
    request_headers = dict(headers)

    if have:
        request_headers["Range"] = f"bytes={have}-"
        log.info("Resuming %s from byte %d of %d", artifact.name, have, artifact.size)

    try:
        response = session.get(
            artifact.url, headers=request_headers, stream=True, timeout=timeout
        )
    except requests.RequestException as exc:
        raise DownloadError(f"{artifact.name} cannot be fetched: {_why(exc)}") from exc

    with response:
        if response.status_code == 416 and have:
            # The server no longer has what the part file was started from;
            # starting over is the only way on.
            part.unlink()
            raise DownloadError(
                f"the server cannot carry on {artifact.name}; it starts over"
            )

        start = _start_of(response, have, artifact)
        received = start

        try:
            with part.open("r+b" if start else "wb") as out:
                out.seek(start)
                out.truncate()

                for chunk in response.iter_content(_CHUNK):
                    received += len(chunk)
                    out.write(chunk)

                    if received > artifact.size:
                        break

                    if progress is not None:
                        progress(received, artifact.size)
        except requests.RequestException as exc:
            raise DownloadError(
                f"the download of {artifact.name} stopped at {received} of "
                f"{artifact.size} bytes ({_why(exc)}); it carries on from there"
            ) from exc

    if received < artifact.size:
        raise DownloadError(
            f"the download of {artifact.name} stopped at {received} of "
            f"{artifact.size} bytes; it carries on from there"
        )


def _start_of(response: requests.Response, have: int, artifact: Artifact) -> int:
    """Where the answer's bytes go in the file: at ``have``, or from 0."""

    if response.status_code == 206:
        found = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))

        if found and int(found.group(1)) == have:
            return have

        raise DownloadError(
            f"the server answered a different part of {artifact.name} than asked"
        )

    if response.status_code == 200:
        return 0

    raise DownloadError(
        f"{artifact.name} cannot be fetched: the server answered HTTP "
        f"{response.status_code}"
    )


def _check(artifact: Artifact, part: Path) -> None:
    size = part.stat().st_size

    if size != artifact.size:
        part.unlink()
        raise ArtifactRejectedError(
            f"{artifact.name} is {size} bytes but the signed manifest says "
            f"{artifact.size}; it was discarded"
        )

    digest = sha256_of(part)

    if digest != artifact.sha256:
        part.unlink()
        raise ArtifactRejectedError(
            f"the SHA-256 of {artifact.name} does not match the signed manifest "
            f"(got {digest[:16]}…, expected {artifact.sha256[:16]}…): it was "
            "altered or corrupted, and was discarded"
        )


def _why(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer in time"

    if isinstance(exc, requests.ConnectionError):
        return "the connection failed or was cut"

    return type(exc).__name__
