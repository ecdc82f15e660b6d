"""What the views share, kept on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from flask import current_app

from services.ui.backends import RegistrationClient
from services.ui.clients import (
    InventoryClient,
    ProvisioningClient,
    TunnelClient,
    UpdaterClient,
)
from services.ui.host import Host
from services.ui.live import LiveState
from services.ui.throttle import LoginThrottle

EXTENSION = "cld_ui"


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's parts: its backends, state, accounts and settings."""

    registration: RegistrationClient
    provisioning: ProvisioningClient
    inventory: InventoryClient
    updater: UpdaterClient
    tunnel: TunnelClient
    users_file: Path
    throttle: LoginThrottle
    secure_cookies: bool
    live: LiveState
    host: Host
    language: str = ""
    auth_header: str = ""
    clock_check: float = 600.0

    def host_language(self) -> str:
        """The host's language: CLD_UI_LANGUAGE, else the inventory's, else ours.

        The inventory service owns the platform's facts; the profile read at
        start-up stands in until it has announced them.
        """

        return self.language or self.live.host_language() or self.host.language


def dashboard() -> Dashboard:
    """The parts of the app serving the current request."""

    return cast(Dashboard, current_app.extensions[EXTENSION])
