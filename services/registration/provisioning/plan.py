"""The plan of a full sync: PM's list against the cloud's users of this system.

Only the cloud's users of this system are compared, so a full sync never
touches users that someone or something else made. Removals come first and
creations last, so an e-mail address or a place under the user limit that a
removal frees is free by the time a creation needs it.

Users rejected here are not written, and a cloud copy of one is left as it
is: PM still lists the user, so removing it would lose it, and what PM says
about it cannot be applied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.registration.provisioning.users import (
    CloudCopy,
    PmUser,
    Rejection,
    check_user,
    matches,
)


class Action(StrEnum):
    """What a sync does for one user."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REMOVE = "remove"
    REJECT = "reject"


class Outcome(StrEnum):
    """What became of one user, as the sync reports it."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    REJECTED = "rejected"
    PENDING = "pending"


@dataclass(frozen=True)
class Step:
    """One user's part of a plan; ``user_id`` names the cloud's copy."""

    extension: str
    action: Action
    user_id: str = ""
    code: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        """The step as journalled."""

        return {
            "extension": self.extension,
            "action": self.action.value,
            "userId": self.user_id,
            "code": self.code,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        """A step from its journalled form."""

        return cls(
            extension=str(data["extension"]),
            action=Action(data["action"]),
            user_id=str(data.get("userId", "")),
            code=str(data.get("code", "")),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class Result:
    """One user's result in a sync."""

    extension: str
    outcome: Outcome
    user_id: str = ""
    code: str = ""
    reason: str = ""


@dataclass
class Counts:
    """How many users of a sync ended each way."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: int = 0
    pending: int = 0


def duplicate_extensions(users: Iterable[PmUser]) -> list[str]:
    """Extensions listed more than once: such a list cannot be synced."""

    seen: set[str] = set()
    twice: list[str] = []

    for user in users:
        if user.extension in seen and user.extension not in twice:
            twice.append(user.extension)

        seen.add(user.extension)

    return twice


def local_rejections(users: Sequence[PmUser], limit: int) -> dict[str, Rejection]:
    """PM's users that cannot be provisioned, by extension, and why.

    Invalid users first; then every user sharing an e-mail address with
    another (whatever its case), all of them, since which one PM meant is
    unknown; then, in PM's order, the valid users beyond ``limit``.
    """

    rejected: dict[str, Rejection] = {}

    for user in users:
        problem = check_user(user)

        if problem is not None:
            rejected[user.extension] = problem

    holders: dict[str, list[str]] = {}

    for user in users:
        if user.extension not in rejected:
            holders.setdefault(user.email.lower(), []).append(user.extension)

    for email, extensions in holders.items():
        if len(extensions) > 1:
            for extension in extensions:
                others = ", ".join(e for e in extensions if e != extension)
                rejected[extension] = Rejection(
                    "DUPLICATE_EMAIL",
                    f"The e-mail address {email} is also given to extension {others}.",
                )

    accepted = 0

    for user in users:
        if user.extension in rejected:
            continue

        accepted += 1

        if accepted > limit:
            rejected[user.extension] = Rejection(
                "USER_LIMIT",
                f"An MX-ONE system links at most {limit} users; this one is "
                "beyond that in Provisioning Manager's list.",
            )

    return rejected


def plan_sync(
    users: Sequence[PmUser], cloud: Sequence[CloudCopy], limit: int
) -> list[Step]:
    """The steps that make this system's cloud users match PM's ``users``.

    ``users`` must be normalised and free of duplicate extensions.
    """

    rejected = local_rejections(users, limit)
    by_extension = {copy.extension: copy for copy in cloud}
    listed = {user.extension for user in users}

    removals = [
        Step(copy.extension, Action.REMOVE, copy.user_id)
        for copy in cloud
        if copy.extension not in listed
    ]
    updates: list[Step] = []
    creations: list[Step] = []
    settled: list[Step] = []

    for user in users:
        copy = by_extension.get(user.extension)
        user_id = copy.user_id if copy else ""
        problem = rejected.get(user.extension)

        if problem is not None:
            settled.append(
                Step(
                    user.extension, Action.REJECT, user_id, problem.code, problem.reason
                )
            )
        elif copy is None:
            creations.append(Step(user.extension, Action.CREATE))
        elif matches(user, copy):
            settled.append(Step(user.extension, Action.UNCHANGED, user_id))
        else:
            updates.append(Step(user.extension, Action.UPDATE, user_id))

    return [*settled, *removals, *updates, *creations]


def settled_result(step: Step) -> Result | None:
    """The result a step has without any write, or None when it needs one."""

    if step.action is Action.UNCHANGED:
        return Result(step.extension, Outcome.UNCHANGED, step.user_id)

    if step.action is Action.REJECT:
        return Result(
            step.extension, Outcome.REJECTED, step.user_id, step.code, step.reason
        )

    return None


def count(results: Iterable[Outcome]) -> Counts:
    """The counts of ``results``."""

    tally = Counter(results)
    return Counts(**{outcome.value: tally[outcome] for outcome in Outcome})
