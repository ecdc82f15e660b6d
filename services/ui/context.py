"""What the views share, kept on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from flask import current_app

from services.ui.backends import RegistrationClient
from services.ui.throttle import LoginThrottle

EXTENSION = "cld_ui"


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's parts: its backends, its accounts file, its throttle."""

    registration: RegistrationClient
    users_file: Path
    throttle: LoginThrottle
    secure_cookies: bool


def dashboard() -> Dashboard:
    """The parts of the app serving the current request."""

    return cast(Dashboard, current_app.extensions[EXTENSION])
