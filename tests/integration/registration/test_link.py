"""Linking, keeping and losing the link, against the real emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
import requests
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc

from services.common import rpc, topics
from services.common.bus import Bus, wait_until
from tests.integration.common.test_bus import Inbox
from tests.support.browser import cloud_sign_in
from tests.support.processes import Broker, Cloud, Service

CALLBACK = "http://127.0.0.1:8080/cld/link/callback"


def stub(service: Service) -> pb_grpc.RegistrationStub:
    return pb_grpc.RegistrationStub(rpc.channel(service.runtime_dir, "registration"))


def link_as_admin(service: Service) -> pb.Link:
    return stub(service).LinkWithPassword(
        pb.LinkWithPasswordRequest(
            username="admin@acme.example", password="acme-admin-1"
        ),
        timeout=10,
    )


def error_of(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()

    return error.value


def link_file(service: Service) -> Path:
    return Path(service.env["CLD_STATE_DIR"]) / "registration" / "link.json"


def test_link_with_a_password_then_unlink(
    registration: Service, cloud: Cloud, mosquitto: Broker
) -> None:
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe("cld/#", inbox)
    watcher.start()

    link = link_as_admin(registration)

    assert link.state == pb.LINK_STATE_LINKED
    assert link.account_name == "Acme Dental"
    assert link.account_number == "100001"
    assert link.region == "eu"
    assert link.role == "ACCOUNT_ADMIN"
    assert link.system_id
    assert link.admin_portal_url.startswith(cloud.url)
    assert wait_until(
        lambda: (inbox.last(topics.LINK) or {}).get("state") == "linked", 5
    )

    stored = json.loads(link_file(registration).read_text())
    assert link_file(registration).stat().st_mode & 0o777 == 0o600
    for _, payload in inbox.messages:
        assert stored["refresh_token"] not in json.dumps(payload)

    token = stub(registration).GetAccessToken(pb.GetAccessTokenRequest(), timeout=5)
    systems = requests.get(
        f"{cloud.url}/2017-09-01/systems",
        headers={"Authorization": f"Bearer {token.token}"},
        timeout=5,
    ).json()
    assert [s["systemId"] for s in systems["_embedded"]["items"]] == [link.system_id]

    unlinked = stub(registration).Unlink(pb.UnlinkRequest(), timeout=10)

    assert unlinked.state == pb.LINK_STATE_NOT_LINKED
    assert unlinked.reason == ""
    assert wait_until(
        lambda: (inbox.last(topics.LINK) or {}).get("state") == "not_linked", 5
    )
    refused = requests.post(
        f"{cloud.url}/2017-09-01/token",
        data={"grant_type": "refresh_token", "refresh_token": stored["refresh_token"]},
        timeout=5,
    )
    assert refused.json()["error"] == "invalid_grant"
    watcher.stop()


def test_the_link_survives_a_restart(registration: Service) -> None:
    link = link_as_admin(registration)

    registration.stop()
    registration.start()

    again = stub(registration).GetLink(pb.GetLinkRequest(), timeout=5)
    assert again.state == pb.LINK_STATE_LINKED
    assert again.system_id == link.system_id
    assert (
        stub(registration).GetAccessToken(pb.GetAccessTokenRequest(), timeout=5).token
    )


def test_a_wrong_password_is_refused_clearly(registration: Service) -> None:
    error = error_of(
        lambda: stub(registration).LinkWithPassword(
            pb.LinkWithPasswordRequest(username="admin@acme.example", password="nope"),
            timeout=10,
        )
    )

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "username or password is incorrect" in (error.details() or "")
    assert stub(registration).GetLink(pb.GetLinkRequest()).state == (
        pb.LINK_STATE_NOT_LINKED
    )


def test_a_user_without_admin_rights_cannot_link(registration: Service) -> None:
    error = error_of(
        lambda: stub(registration).LinkWithPassword(
            pb.LinkWithPasswordRequest(
                username="clerk@acme.example", password="acme-clerk-1"
            ),
            timeout=10,
        )
    )

    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "administrator" in (error.details() or "")
    assert stub(registration).GetLink(pb.GetLinkRequest()).state == (
        pb.LINK_STATE_NOT_LINKED
    )


def test_an_email_in_two_accounts_needs_the_right_account_number(
    registration: Service,
) -> None:
    def attempt(number: str) -> pb.Link:
        return stub(registration).LinkWithPassword(
            pb.LinkWithPasswordRequest(
                username="shared@example.com",
                password="shared-admin-1",
                account_number=number,
            ),
            timeout=10,
        )

    missing = error_of(lambda: attempt(""))
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "account" in (missing.details() or "").lower()

    wrong = error_of(lambda: attempt("999999"))
    assert wrong.code() == grpc.StatusCode.UNAUTHENTICATED

    link = attempt("100002")
    assert link.account_name == "Globex Logistics"


def test_empty_credentials_are_a_malformed_request(registration: Service) -> None:
    error = error_of(
        lambda: stub(registration).LinkWithPassword(
            pb.LinkWithPasswordRequest(username="", password=""), timeout=5
        )
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_an_unreachable_cloud_changes_nothing_and_can_be_retried(
    registration: Service, cloud: Cloud
) -> None:
    cloud.stop()

    error = error_of(lambda: link_as_admin(registration))

    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "cannot be reached" in (error.details() or "")
    assert "Nothing was changed" in (error.details() or "")
    assert stub(registration).GetLink(pb.GetLinkRequest()).state == (
        pb.LINK_STATE_NOT_LINKED
    )

    cloud.start()
    assert link_as_admin(registration).state == pb.LINK_STATE_LINKED


def test_link_through_the_browser_sign_in(registration: Service) -> None:
    begun = stub(registration).BeginLink(
        pb.BeginLinkRequest(redirect_uri=CALLBACK), timeout=5
    )
    browser = requests.Session()

    answer = cloud_sign_in(
        browser, begun.authorize_url, "admin@acme.example", "acme-admin-1"
    )

    assert answer.status_code in {302, 303}
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [begun.state]

    link = stub(registration).CompleteLink(
        pb.CompleteLinkRequest(code=query["code"][0], state=begun.state), timeout=10
    )
    assert link.state == pb.LINK_STATE_LINKED
    assert link.account_name == "Acme Dental"


def test_a_callback_with_a_wrong_state_is_refused(registration: Service) -> None:
    begun = stub(registration).BeginLink(
        pb.BeginLinkRequest(redirect_uri=CALLBACK), timeout=5
    )
    answer = cloud_sign_in(
        requests.Session(), begun.authorize_url, "admin@acme.example", "acme-admin-1"
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    error = error_of(
        lambda: stub(registration).CompleteLink(
            pb.CompleteLinkRequest(code=code, state="forged-state"), timeout=5
        )
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown or has expired" in (error.details() or "")


def test_a_bad_redirect_uri_is_refused(registration: Service) -> None:
    error = error_of(
        lambda: stub(registration).BeginLink(
            pb.BeginLinkRequest(redirect_uri="/relative"), timeout=5
        )
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_revoked_refresh_token_turns_the_link_off_with_a_reason(
    tmp_path: Path, env: dict[str, str], cloud: Cloud
) -> None:
    # Short-lived access tokens make the service refresh at once.
    short = Cloud(tmp_path / "short-cloud", token_ttl=5)
    short.start()
    service = Service(
        "registration", {**env, "CLD_CLOUD_URL": short.url}, tmp_path / "d2"
    )
    service.start()

    try:
        link_as_admin(service)
        refresh = json.loads(link_file(service).read_text())["refresh_token"]
        requests.post(
            f"{short.url}/2017-09-01/token/revoke", data={"token": refresh}, timeout=5
        ).raise_for_status()

        assert wait_until(
            lambda: (
                stub(service).GetLink(pb.GetLinkRequest()).state
                == pb.LINK_STATE_NOT_LINKED
            ),
            15,
        )
        reason = stub(service).GetLink(pb.GetLinkRequest()).reason
        assert "rejected" in reason
        assert "Link the system again" in reason
    finally:
        service.stop()
        short.stop()


def test_a_corrupt_state_file_is_kept_aside_and_reported(
    tmp_path: Path, env: dict[str, str]
) -> None:
    state = Path(env["CLD_STATE_DIR"]) / "registration"
    state.mkdir(parents=True)
    (state / "link.json").write_text('{"refresh_token": "abc"')
    service = Service("registration", env, tmp_path / "daemon")
    service.start()

    try:
        link = stub(service).GetLink(pb.GetLinkRequest(), timeout=5)

        assert link.state == pb.LINK_STATE_NOT_LINKED
        assert "could not be read" in link.reason
        kept = list(state.glob("link.json.corrupt-*"))
        assert len(kept) == 1
        assert kept[0].read_text() == '{"refresh_token": "abc"'
        assert link_as_admin(service).state == pb.LINK_STATE_LINKED
    finally:
        service.stop()
