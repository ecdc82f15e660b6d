"""One user's write to the cloud, and what its answer means for PM.

Full syncs and single-user changes write through the same ``UserWriter``,
which holds a lock per extension so the two never write one user at once.
A refusal about the user becomes a REJECTED result; trouble that a retry may
cure (no answer, a server error, an expired token) raises Unreachable.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from services.registration.cloud_api import CloudRejectedError, CloudUnreachableError
from services.registration.provisioning.cloud_users import UsersClient
from services.registration.provisioning.plan import Action, Outcome, Result, Step
from services.registration.provisioning.users import PmUser, matches

# PM's reason codes are a closed list (provisioning.proto). The cloud's
# duplicate is an address another user of the account already has, and a
# service the account lacks is one this system cannot give; any other
# refusal is about the user as a whole.
_CLOUD_CODES = {
    "DUPLICATE_EMAIL": "EMAIL_IN_USE",
    "SERVICE_NOT_ENTITLED": "UNKNOWN_SERVICE",
    "INVALID_EMAIL": "INVALID_EMAIL",
    "INVALID_USER": "INVALID_USER",
    "USER_LIMIT": "USER_LIMIT",
}

# Answers about the caller rather than the user: a retry may cure them.
_TRANSIENT = (401, 408, 429)


class Unreachable(Exception):  # noqa: N818
    """The cloud could not take a write now; nothing is known to be done."""


class UserWriter:
    """Creates, replaces and removes users of one system in the cloud.

    ``counted`` is told +1 or -1 as users are created or removed, so the
    number this system provisioned stays known without listing them.
    """

    def __init__(self, client: UsersClient, counted: Callable[[int], None]) -> None:
        self.client = client
        self.counted = counted
        self._lock = threading.Lock()
        self._extensions: dict[str, threading.Lock] = {}

    @contextmanager
    def holding(self, extension: str) -> Iterator[None]:
        """Holds the lock of ``extension``; raises Unreachable for cloud trouble."""

        with self._lock:
            lock = self._extensions.setdefault(extension, threading.Lock())

        with lock:
            try:
                yield
            except CloudUnreachableError as exc:
                raise Unreachable(str(exc)) from exc
            except CloudRejectedError as exc:
                if exc.status not in _TRANSIENT:
                    raise

                raise Unreachable(f"CloudLink refused the link's token: {exc}") from exc

    def apply(
        self, step: Step, user: PmUser | None, token: str, system_id: str, sync_id: str
    ) -> Result:
        """Carries out one planned write of sync ``sync_id``."""

        with self.holding(step.extension):
            if step.action is Action.REMOVE:
                return self.remove(token, step.extension, step.user_id)

            if user is None:
                raise ValueError(f"extension {step.extension} has no user to write")

            if step.action is Action.UPDATE:
                return self.replace(token, system_id, step.user_id, user)

            # The same key on every attempt: a create whose answer was lost
            # is answered with the user made the first time.
            return self.create(token, system_id, user, f"{sync_id}:{user.extension}")

    def create(self, token: str, system_id: str, user: PmUser, key: str) -> Result:
        """Creates ``user``; one made meanwhile with its extension is updated."""

        try:
            copy = self.client.create(token, system_id, user, key)
        except CloudRejectedError as exc:
            if exc.error_code != "EXTENSION_IN_USE":
                return refused(user.extension, exc)

            existing = self.client.find(token, system_id, user.extension)

            if existing is None:
                return refused(user.extension, exc)

            if matches(user, existing):
                return Result(user.extension, Outcome.UNCHANGED, existing.user_id)

            return self.replace(token, "", existing.user_id, user)

        self.counted(1)
        return Result(user.extension, Outcome.CREATED, copy.user_id)

    def replace(self, token: str, system_id: str, user_id: str, user: PmUser) -> Result:
        """Updates the cloud's user ``user_id`` to ``user``.

        When it was removed meanwhile and ``system_id`` is given, it is made
        again, since PM still lists it.
        """

        try:
            copy = self.client.replace(token, user_id, user)
        except CloudRejectedError as exc:
            if exc.status == 404 and system_id:
                return self.create(token, system_id, user, f"re:{uuid.uuid4()}")

            return refused(user.extension, exc)

        return Result(user.extension, Outcome.UPDATED, copy.user_id)

    def remove(self, token: str, extension: str, user_id: str) -> Result:
        """Removes the cloud's user ``user_id``; one already gone is removed."""

        try:
            self.client.delete(token, user_id)
        except CloudRejectedError as exc:
            return refused(extension, exc)

        self.counted(-1)
        return Result(extension, Outcome.REMOVED, user_id)


def refused(extension: str, exc: CloudRejectedError) -> Result:
    """The REJECTED result of a cloud refusal; transient ones are re-raised."""

    if exc.status in _TRANSIENT:
        raise exc

    return Result(
        extension,
        Outcome.REJECTED,
        "",
        _CLOUD_CODES.get(exc.error_code, "INVALID_USER"),
        f"CloudLink refused the user: {exc}",
    )
