"""Single-user changes and the connection check, beside the full syncs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import grpc

from services.registration.cloud_api import CloudRejectedError, CloudUnreachableError
from services.registration.link import LinkError
from services.registration.provisioning.engine import Provisioner, ProvisioningError
from services.registration.provisioning.plan import Outcome, Result
from services.registration.provisioning.users import (
    PmUser,
    check_user,
    matches,
    normalise,
    valid_extension,
)
from services.registration.provisioning.writes import Unreachable


@dataclass(frozen=True)
class Connection:
    """Whether provisioning can work now, and the figures around it."""

    linked: bool
    cloud_reachable: bool
    problem: str
    account_name: str
    system_id: str
    provisioned_users: int
    user_limit: int


class SingleUsers:
    """PM's changes to one user at a time, applied at once.

    They go through the provisioner's writer, so they wait for a sync's
    write of the same extension rather than race it.
    """

    def __init__(self, provisioner: Provisioner) -> None:
        self.provisioner = provisioner
        self.client = provisioner.client
        self.writer = provisioner.writer
        self.user_limit = provisioner.user_limit

    def put_user(self, user: PmUser) -> Result:
        """Creates or updates one user to match PM; refusals are results."""

        user = normalise(user)
        problem = check_user(user)

        if problem is not None:
            rejected = Result(
                user.extension, Outcome.REJECTED, "", problem.code, problem.reason
            )
            return self.provisioner.record_single("put", rejected)

        token, system_id = self._link()

        with self._answered(), self.writer.holding(user.extension):
            existing = self.client.find(token, system_id, user.extension)

            if existing is not None and matches(user, existing):
                result = Result(user.extension, Outcome.UNCHANGED, existing.user_id)
            elif existing is not None:
                result = self.writer.replace(token, "", existing.user_id, user)
            elif self.client.count_system(token, system_id) >= self.user_limit:
                result = Result(
                    user.extension,
                    Outcome.REJECTED,
                    "",
                    "USER_LIMIT",
                    f"This system already links {self.user_limit} users, the most "
                    "an MX-ONE system may.",
                )
            else:
                key = f"put:{uuid.uuid4()}"
                result = self.writer.create(token, system_id, user, key)

        return self.provisioner.record_single("put", result)

    def delete_user(self, extension: str) -> Result:
        """Removes this system's user with ``extension``.

        Raises ProvisioningError NOT_FOUND when there is none, and
        INVALID_ARGUMENT when ``extension`` is not one.
        """

        _check_extension(extension)
        token, system_id = self._link()

        with self._answered(), self.writer.holding(extension):
            existing = self.client.find(token, system_id, extension)

            if existing is None:
                raise _no_user(extension)

            result = self.writer.remove(token, extension, existing.user_id)

        return self.provisioner.record_single("delete", result)

    def get_user(self, extension: str) -> tuple[PmUser, str, str]:
        """This system's user with ``extension``: the user, its id, when modified.

        Raises ProvisioningError NOT_FOUND when there is none, and
        INVALID_ARGUMENT when ``extension`` is not one.
        """

        _check_extension(extension)
        token, system_id = self._link()

        with self._answered(), self.writer.holding(extension):
            existing = self.client.find(token, system_id, extension)

        if existing is None:
            raise _no_user(extension)

        return existing.as_pm_user(), existing.user_id, existing.modified_on

    def check_connection(self) -> Connection:
        """Whether the link is there and the cloud answers with its token."""

        try:
            token, system_id = self.provisioner.tokens()
        except LinkError as exc:
            linked = exc.code != grpc.StatusCode.FAILED_PRECONDITION
            return Connection(
                linked,
                False,
                exc.message,
                "",
                "",
                self.provisioner.book.provisioned_users,
                self.user_limit,
            )

        problem = ""

        try:
            self.provisioner.set_provisioned(self.client.count_system(token, system_id))
        except (CloudUnreachableError, CloudRejectedError) as exc:
            problem = f"CloudLink did not answer the Users API as expected: {exc}"

        return Connection(
            True,
            not problem,
            problem,
            self.provisioner.account_name(),
            system_id,
            self.provisioner.book.provisioned_users,
            self.user_limit,
        )

    def _link(self) -> tuple[str, str]:
        try:
            return self.provisioner.tokens()
        except LinkError as exc:
            raise ProvisioningError(exc.code, exc.message) from None

    @contextmanager
    def _answered(self) -> Iterator[None]:
        try:
            yield
        except Unreachable as exc:
            raise ProvisioningError(grpc.StatusCode.UNAVAILABLE, str(exc)) from exc
        except CloudRejectedError as exc:
            raise ProvisioningError(
                grpc.StatusCode.FAILED_PRECONDITION, f"CloudLink refused: {exc}"
            ) from exc


def _no_user(extension: str) -> ProvisioningError:
    return ProvisioningError(
        grpc.StatusCode.NOT_FOUND,
        f"This system has provisioned no user with extension {extension}.",
    )


def _check_extension(extension: str) -> None:
    if not valid_extension(extension):
        raise ProvisioningError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"The extension {extension!r} is not 1 to 15 digits.",
        )
