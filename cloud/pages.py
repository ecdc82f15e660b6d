"""The sign-in form shared by the authorize page and the admin page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request

from cloud.directory import SignInError, choose_account
from cloud.emulator import PendingSignIn, emulator
from cloud.oauth import AuthorizeRequest
from cloud.seed import User


@dataclass(frozen=True)
class SignInPage:
    """How one page words its sign-in form, and what a pending sign-in is for."""

    heading: str
    intro: str
    context: AuthorizeRequest | str
    cancellable: bool


def show(
    page: SignInPage,
    *,
    step: str = "password",
    error: str | None = None,
    username: str = "",
    pending: str = "",
    email: str = "",
) -> str:
    """The form at ``step``: "password" first, "account" when one is needed."""

    return render_template(
        "signin.html",
        page=page,
        step=step,
        error=error,
        username=username,
        pending=pending,
        email=email,
    )


def submit(page: SignInPage) -> User | str:
    """The user signed in by the posted form, or the page to show next."""

    if request.form.get("step") == "account":
        return _choose_account(page)

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")

    if not username or not password:
        return show(
            page, error="Enter your e-mail address and password", username=username
        )

    em = emulator()

    # The limits of the token endpoint apply here too: hashing a huge
    # password would only burn CPU.
    if len(username) > 320 or len(password) > 1024:
        return show(page, error="The username or password is incorrect")

    try:
        users = em.directory.authenticate(username, password)
    except SignInError as exc:
        return show(page, error=exc.message, username=username)

    if len(users) == 1:
        return users[0]

    pending = em.pending.add(
        PendingSignIn(users[0].email, tuple(u.user_id for u in users), page.context)
    )
    return show(page, step="account", pending=pending, email=users[0].email)


def forget() -> None:
    """Drops the pending sign-in the posted form refers to, if any."""

    emulator().pending.discard(request.form.get("pending", ""))


def _choose_account(page: SignInPage) -> User | str:
    em = emulator()
    pending_id = request.form.get("pending", "")
    pending = em.pending.get(pending_id)

    if pending is None or pending.context != page.context:
        return show(page, error="The sign-in took too long. Please sign in again.")

    number = request.form.get("accountNumber", "").strip()

    if not number:
        return _account_step(page, pending_id, pending, "Enter an account number")

    users = [u for u in map(em.seed.user, pending.user_ids) if u is not None]

    try:
        user = choose_account(em.seed, users, number[:64])
    except SignInError as exc:
        return _account_step(page, pending_id, pending, exc.message)

    em.pending.discard(pending_id)
    return user


def _account_step(
    page: SignInPage, pending_id: str, pending: PendingSignIn, error: str
) -> str:
    return show(
        page, step="account", error=error, pending=pending_id, email=pending.email
    )
