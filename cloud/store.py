"""The emulator's durable data: sign-in sessions and linked systems.

A sign-in session is what a refresh token stands for; access tokens name it
in their ``sid`` claim. Only a SHA-256 of each refresh token is kept, so the
state file is no key to anyone's account.

Refresh tokens do not expire and revoked sessions are removed, so the file
grows with every sign-in that is never revoked; for an emulator used in
development and demos that stays small, but it is unbounded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.common.state import StateStore

SCHEMA_VERSION = 1


class StateError(RuntimeError):
    """The state file holds something the emulator cannot use."""


@dataclass(frozen=True)
class Session:
    """A sign-in session, the thing a refresh token stands for."""

    sid: str
    token_hash: str
    user_id: str
    account_id: str
    grant: str
    created_on: str


@dataclass(frozen=True)
class System:
    """A system linked to an account."""

    system_id: str
    account_id: str
    installation_id: str
    name: str
    platform: str
    hostname: str
    daemon_version: str
    created_on: str
    linked_on: str
    linked_by: str
    linked_by_email: str
    sid: str


def timestamp() -> str:
    """The current UTC time as the API writes it, e.g. 2025-01-31T12:00:00.123Z."""

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def token_hash(refresh_token: str) -> str:
    """What is kept of a refresh token."""

    return hashlib.sha256(refresh_token.encode()).hexdigest()


class CloudStore:
    """Sessions and systems in memory, saved to one JSON file on every change.

    Every method takes the lock, and a change is saved before it is made
    visible, so a failed save leaves memory as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = StateStore(path)
        self._lock = threading.Lock()
        document = self._file.load() or {}

        if document.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise StateError(f"{path}: version {document['version']!r} is unknown")

        secret = document.get("sessionSecret")

        if secret is not None and not (isinstance(secret, str) and secret):
            raise StateError(f"{path}: sessionSecret is not a string")

        self._secret = secret or secrets.token_urlsafe(32)
        self._sessions: dict[str, Session] = {}
        self._systems: dict[str, System] = {}
        self._by_hash: dict[str, str] = {}
        self._commit(
            {
                fields["sid"]: Session(**fields)
                for fields in _records(document, "sessions", Session, path)
            },
            {
                fields["system_id"]: System(**fields)
                for fields in _records(document, "systems", System, path)
            },
            save=secret is None,
        )

    @property
    def session_secret(self) -> str:
        """The key that signs the browser session cookies."""

        return str(self._secret)

    def open_session(
        self, user_id: str, account_id: str, grant: str
    ) -> tuple[Session, str]:
        """A new session and its refresh token, which is not kept."""

        refresh_token = secrets.token_urlsafe(32)
        session = Session(
            sid=str(uuid.uuid4()),
            token_hash=token_hash(refresh_token),
            user_id=user_id,
            account_id=account_id,
            grant=grant,
            created_on=timestamp(),
        )

        with self._lock:
            self._commit({**self._sessions, session.sid: session}, self._systems)

        return session, refresh_token

    def session_of(self, refresh_token: str) -> Session | None:
        """The live session of ``refresh_token``."""

        # Looked up by hash, so timing reveals nothing about stored tokens.
        with self._lock:
            sid = self._by_hash.get(token_hash(refresh_token))
            return self._sessions.get(sid) if sid else None

    def is_live(self, sid: str) -> bool:
        """Whether session ``sid`` has not been revoked."""

        with self._lock:
            return sid in self._sessions

    def revoke_refresh_token(self, refresh_token: str) -> bool:
        """Ends the session of ``refresh_token``; False when there was none."""

        session = self.session_of(refresh_token)
        return session is not None and self.revoke_session(session.sid)

    def revoke_session(self, sid: str) -> bool:
        """Ends session ``sid``; False when it was not live."""

        with self._lock:
            if sid not in self._sessions:
                return False

            sessions = {k: v for k, v in self._sessions.items() if k != sid}
            self._commit(sessions, self._systems)

        return True

    def link_system(
        self,
        account_id: str,
        details: dict[str, str],
        user_id: str,
        email: str,
        sid: str,
    ) -> tuple[System, bool]:
        """Links an installation to an account; True when it is newly linked.

        ``details`` holds installation_id, name, platform, hostname and
        daemon_version. Linking an installation again updates its details and,
        from a new session, who linked it.
        """

        now = timestamp()

        with self._lock:
            existing = self._find(account_id, details["installation_id"])

            if existing is None:
                system = System(
                    system_id=str(uuid.uuid4()),
                    account_id=account_id,
                    created_on=now,
                    linked_on=now,
                    linked_by=user_id,
                    linked_by_email=email,
                    sid=sid,
                    **details,
                )
            elif existing.sid != sid:
                system = dataclasses.replace(
                    existing,
                    linked_on=now,
                    linked_by=user_id,
                    linked_by_email=email,
                    sid=sid,
                    **details,
                )
            else:
                system = dataclasses.replace(existing, **details)

            if system != existing:
                self._commit(
                    self._sessions, {**self._systems, system.system_id: system}
                )

        return system, existing is None

    def systems(self, account_id: str) -> list[System]:
        """The systems linked to ``account_id``, oldest first."""

        # Dicts keep insertion order, in memory and through the file.
        with self._lock:
            return [s for s in self._systems.values() if s.account_id == account_id]

    def system(self, account_id: str, system_id: str) -> System | None:
        """System ``system_id`` when it is linked to ``account_id``."""

        with self._lock:
            system = self._systems.get(system_id.lower())

        return system if system and system.account_id == account_id else None

    def unlink_system(self, account_id: str, system_id: str) -> bool:
        """Removes a system of ``account_id``; False when there is none."""

        with self._lock:
            system = self._systems.get(system_id.lower())

            if system is None or system.account_id != account_id:
                return False

            systems = {k: v for k, v in self._systems.items() if k != system.system_id}
            self._commit(self._sessions, systems)

        return True

    def _find(self, account_id: str, installation_id: str) -> System | None:
        wanted = (account_id, installation_id)
        found = (
            s
            for s in self._systems.values()
            if (s.account_id, s.installation_id) == wanted
        )
        return next(found, None)

    def _commit(
        self,
        sessions: dict[str, Session],
        systems: dict[str, System],
        save: bool = True,
    ) -> None:
        if save:
            self._file.save(
                {
                    "version": SCHEMA_VERSION,
                    "sessionSecret": self._secret,
                    "sessions": [_record(s) for s in sessions.values()],
                    "systems": [_record(s) for s in systems.values()],
                }
            )

        self._sessions = sessions
        self._systems = systems
        self._by_hash = {s.token_hash: s.sid for s in sessions.values()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _record(item: Session | System) -> dict[str, str]:
    """``item`` as stored, in the camelCase of the API documents."""

    return {_camel(f.name): getattr(item, f.name) for f in dataclasses.fields(item)}


def _records(
    document: dict[str, Any], name: str, cls: type[Session | System], path: Path
) -> list[dict[str, str]]:
    """The entries of list ``name`` as ``cls`` constructor arguments, checked."""

    entries = document.get(name, [])

    if not isinstance(entries, list):
        raise StateError(f"{path}: {name} is not a list")

    names = {_camel(f.name): f.name for f in dataclasses.fields(cls)}
    found = []

    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise StateError(f"{path}: {name}[{index}] is not an object")

        missing = [key for key in names if not isinstance(entry.get(key), str)]

        if missing:
            raise StateError(
                f"{path}: {name}[{index}] lacks the text fields {', '.join(missing)}"
            )

        found.append({field: entry[key] for key, field in names.items()})

    return found
