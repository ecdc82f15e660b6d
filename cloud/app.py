"""The emulator's Flask app."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask, Response, jsonify, redirect, url_for
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from cloud import admin, auth, releases, reports, signin, systems, users, visits, web
from cloud.config import CloudConfig
from cloud.emulator import Emulator
from cloud.expiring import Clock
from cloud.relay import owners as relay_owners

log = logging.getLogger(__name__)


def create_app(config: CloudConfig, clock: Clock = time.monotonic) -> Flask:
    """The emulator for ``config``; ``clock`` times codes and pending sign-ins.

    Raises SeedError, StateError or SigningKeyError when the seed file, the
    state file or the signing key cannot be used.
    """

    emulator = Emulator(config, clock)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=emulator.store.session_secret,
        # Other local services (the daemon's dashboard) share the host name,
        # and browsers share cookies across ports: a name of our own.
        SESSION_COOKIE_NAME="cloudlink_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["cloud"] = emulator
    app.jinja_env.globals["csrf_token"] = generate_csrf

    web.install(app)

    for blueprint in (auth.bp, signin.bp, systems.bp, admin.bp, relay_owners.bp):
        app.register_blueprint(blueprint)

    app.register_blueprint(releases.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(visits.bp)
    app.register_blueprint(users.bp)

    app.add_url_rule("/health", "health", _health)
    app.add_url_rule("/", "home", _home)

    log.info(
        "CloudLink emulator serving %s with %d accounts and %d users",
        config.public_url,
        len(emulator.seed.accounts),
        len(emulator.seed.users),
        extra={"seed_file": str(config.seed_path), "state_dir": str(config.state_dir)},
    )
    return app


def _health() -> Response:
    return jsonify({"status": "ok"})


def _home() -> BaseResponse:
    return redirect(url_for("admin.systems"))
