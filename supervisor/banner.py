"""The text shown once everything has started: where to go and how to sign in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.ui.accounts import ADMIN
from supervisor.login import API_CLIENT

_LABEL = 14


@dataclass(frozen=True)
class Banner:
    """What the banner shows; absent parts are left out."""

    urls: dict[str, str]
    logs_dir: Path
    login_file: Path
    users_file: Path
    dashboard_password: str | None = None
    demo_logins: Sequence[tuple[str, str, str]] = ()
    api_login_file: Path | None = None
    api_client_password: str | None = None
    not_ready: Sequence[str] = field(default_factory=list)

    def render(self) -> str:
        """The banner as lines of text, ending with a newline."""

        lines = [
            "",
            "CloudLink Daemon is running in process mode. Ctrl-C stops it.",
            "",
        ]

        if "dashboard" in self.urls:
            lines.append(_row("Dashboard", self.urls["dashboard"]))
            lines.append(_row("  sign in as", self._dashboard_login()))

            if self.api_client_password is not None:
                lines.append(
                    _row(
                        "PM API client",
                        f"{API_CLIENT} / {self.api_client_password}  "
                        f"(kept in {self.api_login_file})",
                    )
                )
                lines.append(
                    _row(
                        "  described at", f"{self.urls['dashboard']}api/v1/openapi.json"
                    )
                )

        if "cloud" in self.urls:
            lines.append(_row("Cloud admin", self.urls["cloud_admin"]))

            for index, (email, password, about) in enumerate(self.demo_logins):
                label = "  demo logins" if index == 0 else ""
                lines.append(_row(label, f"{email} / {password}  ({about})"))

        if "relay" in self.urls:
            lines.append(_row("Tunnels at", self.urls["relay"]))

        if "mqtt" in self.urls:
            lines.append(_row("MQTT broker", self.urls["mqtt"]))

        metrics = [
            (key.removesuffix("_metrics"), url)
            for key, url in self.urls.items()
            if key.endswith("_metrics")
        ]

        for index, (service, url) in enumerate(metrics):
            label = "Metrics" if index == 0 else ""
            lines.append(_row(label, f"{url}  ({service})"))

        lines.append(_row("Logs", f"{self.logs_dir}/"))

        if self.not_ready:
            lines += [
                "",
                f"Not ready yet: {', '.join(self.not_ready)}. They are retried; "
                "their logs say why.",
            ]

        return "\n".join([*lines, "", ""])

    def _dashboard_login(self) -> str:
        if self.dashboard_password is not None:
            return f"{ADMIN} / {self.dashboard_password}  (kept in {self.login_file})"

        return (
            f"{ADMIN}, with a password set outside this run folder; for a new "
            f"one, stop, delete {self.users_file} and run again"
        )


def _row(label: str, value: str) -> str:
    return f"  {label:<{_LABEL}} {value}"
