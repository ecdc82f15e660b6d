from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from services.registration.provisioning.plan import (
    Action,
    Outcome,
    count,
    local_rejections,
    plan_sync,
)
from services.registration.provisioning.users import CloudCopy, PmUser, normalise


def user(n: int, **fields: str) -> PmUser:
    values = {
        "extension": str(1000 + n),
        "first_name": "First",
        "last_name": f"Last {n}",
        "email": f"user{n}@acme.example",
        **fields,
    }
    return PmUser(services=("ZOOM_CLIENT",), **values)


def copy(n: int, **fields: str) -> CloudCopy:
    pm = user(n, **fields)
    return CloudCopy(
        user_id=f"id-{n}",
        extension=pm.extension,
        first_name=pm.first_name,
        last_name=pm.last_name,
        email=pm.email,
        services=pm.services,
    )


def actions(steps: list) -> dict[str, Action]:
    return {step.extension: step.action for step in steps}


def test_the_plan_creates_updates_keeps_and_removes() -> None:
    plan = plan_sync(
        [user(1), user(2, last_name="Renamed"), user(3)],
        [copy(2), copy(3), copy(4)],
        limit=10,
    )

    assert actions(plan) == {
        "1001": Action.CREATE,
        "1002": Action.UPDATE,
        "1003": Action.UNCHANGED,
        "1004": Action.REMOVE,
    }
    assert [s.user_id for s in plan if s.extension in ("1002", "1004")] == [
        "id-4",
        "id-2",
    ]


def test_removals_come_before_updates_and_creations() -> None:
    plan = plan_sync([user(1), user(2, last_name="x")], [copy(2), copy(9)], limit=10)

    order = [s.action for s in plan]
    assert order == [Action.REMOVE, Action.UPDATE, Action.CREATE]


def test_a_shared_email_rejects_every_user_having_it() -> None:
    users = [user(1), user(2, email="USER1@acme.example"), user(3)]

    rejected = local_rejections(users, limit=10)

    assert {ext: r.code for ext, r in rejected.items()} == {
        "1001": "DUPLICATE_EMAIL",
        "1002": "DUPLICATE_EMAIL",
    }
    assert "1002" in rejected["1001"].reason
    assert "1001" in rejected["1002"].reason


def test_the_5001st_user_is_beyond_the_limit() -> None:
    users = [user(n) for n in range(5001)]

    plan = plan_sync(users, [], limit=5000)

    assert Counter(s.action for s in plan) == {Action.CREATE: 5000, Action.REJECT: 1}
    rejected = [s for s in plan if s.action is Action.REJECT]
    assert (rejected[0].extension, rejected[0].code) == ("6000", "USER_LIMIT")


def test_rejected_users_do_not_use_up_the_limit() -> None:
    users = [user(0, email="bad"), user(1), user(2)]

    rejected = local_rejections(users, limit=2)

    assert {ext: r.code for ext, r in rejected.items()} == {"1000": "INVALID_EMAIL"}


def test_the_cloud_copy_of_a_rejected_user_is_kept() -> None:
    plan = plan_sync([user(1, email="not-an-address")], [copy(1)], limit=10)

    assert actions(plan) == {"1001": Action.REJECT}
    assert plan[0].user_id == "id-1"


def test_counting_results() -> None:
    counts = count([Outcome.CREATED, Outcome.CREATED, Outcome.PENDING, Outcome.REMOVED])

    assert (counts.created, counts.pending, counts.removed, counts.updated) == (
        2,
        1,
        1,
        0,
    )


_users = st.lists(
    st.builds(
        lambda n, mail, last: user(n, email=f"u{mail}@acme.example", last_name=last),
        st.integers(0, 40),
        st.integers(0, 30),
        st.sampled_from(["A", "B", ""]),
    ),
    max_size=30,
    unique_by=lambda u: u.extension,
)
_cloud = st.lists(
    st.builds(
        lambda n, last: copy(n, last_name=last),
        st.integers(0, 40),
        st.sampled_from(["A", "B"]),
    ),
    max_size=30,
    unique_by=lambda c: c.extension,
)


@given(_users, _cloud, st.integers(1, 20))
def test_every_user_gets_one_step_and_only_this_systems_others_go(
    users: list[PmUser], cloud: list[CloudCopy], limit: int
) -> None:
    users = [normalise(u) for u in users]
    plan = plan_sync(users, cloud, limit)

    steps = Counter(s.extension for s in plan)
    listed = {u.extension for u in users}
    assert set(steps.values()) <= {1}
    assert set(steps) == listed | {c.extension for c in cloud}
    assert {s.extension for s in plan if s.action is Action.REMOVE} == {
        c.extension for c in cloud
    } - listed

    kept = [
        s for s in plan if s.action in (Action.CREATE, Action.UPDATE, Action.UNCHANGED)
    ]
    assert len(kept) <= limit

    emails = Counter(
        u.email.lower() for u in users if u.extension in {s.extension for s in kept}
    )
    assert set(emails.values()) <= {1}
