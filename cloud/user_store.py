"""The account users that systems provision, kept durable with a journal.

A full sync writes thousands of users one request at a time, so rewriting
the whole state file on each would make it slow. Each change is instead
appended to ``users.journal`` as one JSON line and flushed to disk before
it is answered (concurrent writers share one fsync); on start the journal
is folded into the ``users.json`` snapshot, written atomically, and then
emptied. A torn last line, from a crash in the middle of an append, was
never acknowledged and is dropped.

Idempotency keys are kept a day, long enough for any retry of a lost
answer, so the snapshot does not grow with every sync.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud.store import StateError, timestamp
from cloud.user_model import CloudUser, UserConflict, UserFields
from services.common.state import StateStore

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

KEY_LIFETIME = 24 * 3600.0


@dataclass(frozen=True)
class _Key:
    body_hash: str
    user: dict[str, Any]
    seen: float


class UserStore:
    """Users by id, with indexes by e-mail and by (system, extension).

    ``reserved`` maps an account id to e-mail addresses its sign-in users
    (from the seed) already hold, which no provisioned user may take.
    """

    def __init__(self, folder: Path, reserved: dict[str, set[str]]) -> None:
        self._snapshot = StateStore(folder / "users.json")
        self._journal_path = folder / "users.journal"
        self._reserved = reserved
        self._lock = threading.Lock()
        self._fsync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        self._users: dict[str, CloudUser] = {}
        self._by_email: dict[tuple[str, str], str] = {}
        self._by_extension: dict[tuple[str, str, str], str] = {}
        self._by_system: dict[tuple[str, str], dict[str, None]] = {}
        self._keys: dict[tuple[str, str], _Key] = {}
        self.writes: dict[tuple[str, str], int] = {}

        folder.mkdir(parents=True, exist_ok=True)
        self._load()
        self._fd = os.open(
            self._journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
        )

    def close(self) -> None:
        """Closes the journal."""

        os.close(self._fd)

    def count_write(self, account_id: str, method: str) -> None:
        """Counts a write request received, refused or not (emulator only)."""

        with self._lock:
            key = (account_id, method)
            self.writes[key] = self.writes.get(key, 0) + 1

    def write_counts(self, account_id: str) -> dict[str, int]:
        """The write requests received for ``account_id`` since start, by method."""

        with self._lock:
            return {m: n for (a, m), n in self.writes.items() if a == account_id}

    def get(self, account_id: str, user_id: str) -> CloudUser | None:
        """User ``user_id`` when it belongs to ``account_id``."""

        with self._lock:
            user = self._users.get(user_id.lower())

        return user if user and user.account_id == account_id else None

    def select(
        self, account_id: str, system_id: str = "", extension: str = ""
    ) -> list[CloudUser]:
        """The account's users, of one system and extension when given."""

        with self._lock:
            if system_id and extension:
                found = self._by_extension.get((account_id, system_id, extension))
                return [self._users[found]] if found else []

            if system_id:
                ids = list(self._by_system.get((account_id, system_id), {}))
                return [self._users[i] for i in ids]

            users = [u for u in self._users.values() if u.account_id == account_id]

        return [u for u in users if not extension or u.extension == extension]

    def systems_of(self, account_id: str) -> dict[str, list[CloudUser]]:
        """The account's provisioned users grouped by the system that made them."""

        with self._lock:
            return {
                system_id: [self._users[i] for i in ids]
                for (account, system_id), ids in self._by_system.items()
                if account == account_id and system_id and ids
            }

    def create(
        self,
        account_id: str,
        fields: UserFields,
        limit: int,
        key: str = "",
        body_hash: str = "",
    ) -> tuple[CloudUser, bool]:
        """Creates a user; True when new, False for a replayed key.

        Raises UserConflict for a reused key, an e-mail or extension in use,
        or a system at its limit.
        """

        now = timestamp()

        with self._lock:
            if key:
                seen = self._keys.get((account_id, key))

                if seen is not None:
                    if seen.body_hash != body_hash:
                        raise UserConflict(
                            "IDEMPOTENCY_KEY_REUSED",
                            f"Idempotency-Key {key} was used for a different user",
                        )

                    return CloudUser.from_document(seen.user), False

            self._check_email(account_id, fields.email, "")
            self._check_extension(account_id, fields, "")

            if (
                fields.system_id
                and len(self._by_system.get((account_id, fields.system_id), {}))
                >= limit
            ):
                raise UserConflict(
                    "USER_LIMIT",
                    f"System {fields.system_id} already has {limit} users, its limit",
                )

            user = CloudUser(
                user_id=str(uuid.uuid4()),
                account_id=account_id,
                created_on=now,
                modified_on=now,
                **_as_kwargs(fields),
            )
            record: dict[str, Any] = {"op": "put", "user": user.document()}

            if key:
                record.update(key=key, hash=body_hash, seen=time.time())

            seq = self._append(record)
            self._apply(record)

        self._durable(seq)
        return user, True

    def replace(
        self, account_id: str, user_id: str, fields: UserFields
    ) -> CloudUser | None:
        """Replaces the mutable fields of a user; None when there is none.

        The extension and system stay those the user was created with.
        """

        with self._lock:
            current = self._users.get(user_id.lower())

            if current is None or current.account_id != account_id:
                return None

            self._check_email(account_id, fields.email, current.user_id)
            user = dataclasses.replace(
                current,
                email=fields.email,
                first_name=fields.first_name,
                last_name=fields.last_name,
                role=fields.role,
                services=fields.services,
                modified_on=timestamp(),
            )
            record = {"op": "put", "user": user.document()}
            seq = self._append(record)
            self._apply(record)

        self._durable(seq)
        return user

    def delete(self, account_id: str, user_id: str) -> bool:
        """Removes a user; False when the account has no such user."""

        with self._lock:
            current = self._users.get(user_id.lower())

            if current is None or current.account_id != account_id:
                return False

            record = {"op": "delete", "userId": current.user_id}
            seq = self._append(record)
            self._apply(record)

        self._durable(seq)
        return True

    def _check_email(self, account_id: str, email: str, user_id: str) -> None:
        owner = self._by_email.get((account_id, email.lower()))

        if (owner and owner != user_id) or email.lower() in self._reserved.get(
            account_id, set()
        ):
            raise UserConflict(
                "DUPLICATE_EMAIL",
                f"Another user of this account already has the e-mail {email}",
                "email",
            )

    def _check_extension(
        self, account_id: str, fields: UserFields, user_id: str
    ) -> None:
        if not (fields.system_id and fields.extension):
            return

        owner = self._by_extension.get((account_id, fields.system_id, fields.extension))

        if owner and owner != user_id:
            raise UserConflict(
                "EXTENSION_IN_USE",
                f"System {fields.system_id} already has a user with extension "
                f"{fields.extension}",
                "extension",
            )

    def _append(self, record: dict[str, Any]) -> int:
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        os.write(self._fd, line)
        self._written += 1
        return self._written

    def _durable(self, seq: int) -> None:
        # Whoever gets the lock flushes every line written so far, so the
        # writers that queued behind one fsync need none of their own.
        with self._fsync_lock:
            if self._synced >= seq:
                return

            with self._lock:
                target = self._written

            os.fdatasync(self._fd)
            self._synced = target

    def _apply(self, record: dict[str, Any]) -> None:
        if record["op"] == "delete":
            self._remove(str(record["userId"]))
            return

        user = CloudUser.from_document(record["user"])
        self._remove(user.user_id)
        self._users[user.user_id] = user
        self._by_email[(user.account_id, user.email.lower())] = user.user_id
        self._by_system.setdefault((user.account_id, user.system_id), {})[
            user.user_id
        ] = None

        if user.system_id and user.extension:
            self._by_extension[(user.account_id, user.system_id, user.extension)] = (
                user.user_id
            )

        if "key" in record:
            self._keys[(user.account_id, str(record["key"]))] = _Key(
                str(record["hash"]), record["user"], float(record["seen"])
            )

    def _remove(self, user_id: str) -> None:
        user = self._users.pop(user_id, None)

        if user is None:
            return

        self._by_email.pop((user.account_id, user.email.lower()), None)
        self._by_system.get((user.account_id, user.system_id), {}).pop(user_id, None)
        self._by_extension.pop((user.account_id, user.system_id, user.extension), None)

    def _load(self) -> None:
        document = self._snapshot.load() or {}

        if document.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise StateError(f"{self._snapshot.path}: unknown version")

        try:
            for doc in document.get("users", []):
                self._apply({"op": "put", "user": doc})

            for entry in document.get("keys", []):
                self._keys[(entry["accountId"], entry["key"])] = _Key(
                    entry["hash"], entry["user"], float(entry["seen"])
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(
                f"{self._snapshot.path}: a user or key lacks {exc}"
            ) from None

        lines = self._journal_lines()
        self._replay(lines)

        # Appending after a torn line would bury it mid-file, so any journal
        # is folded in now and started afresh.
        if lines or not self._snapshot.path.exists():
            self._compact()

    def _journal_lines(self) -> list[bytes]:
        try:
            return self._journal_path.read_bytes().splitlines(keepends=True)
        except FileNotFoundError:
            return []

    def _replay(self, lines: Iterable[bytes]) -> None:
        for number, line in enumerate(lines, start=1):
            if not line.endswith(b"\n"):
                log.warning("Dropped a torn last line of %s", self._journal_path)
                break

            try:
                self._apply(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise StateError(
                    f"{self._journal_path}: line {number} cannot be read: {exc}"
                ) from None

    def _compact(self) -> None:
        cutoff = time.time() - KEY_LIFETIME
        self._keys = {k: v for k, v in self._keys.items() if v.seen >= cutoff}
        self._snapshot.save(
            {
                "version": SCHEMA_VERSION,
                "users": [u.document() for u in self._users.values()],
                "keys": [
                    {
                        "accountId": account_id,
                        "key": key,
                        "hash": entry.body_hash,
                        "user": entry.user,
                        "seen": entry.seen,
                    }
                    for (account_id, key), entry in self._keys.items()
                ],
            }
        )

        # Only once the snapshot holds every line is the journal emptied.
        with self._journal_path.open("wb") as journal:
            os.fsync(journal.fileno())


def _as_kwargs(fields: UserFields) -> dict[str, Any]:
    return {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}
