"""Every setting of the CloudLink emulator, with its variable and default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.common.settings import (
    Address,
    ConfigError,
    Count,
    LogLevel,
    Seconds,
    load,
    setting,
)

PACKAGED_SEED = Path(__file__).with_name("seed.json")


@dataclass(frozen=True)
class CloudConfig:
    """The emulator's configuration."""

    bind: Address = setting(
        "CLD_CLOUD_BIND", "127.0.0.1:8800", "Address the emulator listens on."
    )
    public_url: str = setting(
        "CLD_CLOUD_PUBLIC_URL",
        "http://127.0.0.1:8800",
        "URL browsers and daemons use to reach the emulator; the token issuer "
        "and the base of every link it hands out.",
    )
    state_dir: Path = setting(
        "CLD_CLOUD_STATE_DIR",
        "/var/lib/cld-cloud",
        "Durable state: signing key, refresh tokens, linked systems.",
    )
    seed_file: str = setting(
        "CLD_CLOUD_SEED_FILE",
        "",
        "Accounts and users to serve; empty is the packaged cloud/seed.json.",
    )
    token_ttl: Seconds = setting(
        "CLD_CLOUD_TOKEN_TTL", "3600", "Lifetime of an access token, in seconds."
    )
    log_level: LogLevel = setting("CLD_CLOUD_LOG_LEVEL", "INFO", "Lowest level logged.")
    user_limit: Count = setting(
        "CLD_CLOUD_USER_LIMIT",
        "5000",
        "Users one system may provision in an account (the Users API).",
    )
    # The admin page's remote-access links.
    relay_url: str = setting(
        "CLD_CLOUD_RELAY_URL",
        "http://{label}.eu.relay.localhost:8802",
        "A tunnel's public URL at the relay, {label} standing for its label; "
        "the admin page's remote-access links lead there.",
    )

    def __post_init__(self) -> None:
        url = urlsplit(self.public_url)

        if url.scheme not in {"http", "https"} or not url.netloc:
            raise ConfigError(
                f"CLD_CLOUD_PUBLIC_URL={self.public_url!r} is not valid: "
                "expected an http:// or https:// URL"
            )

        if url.query or url.fragment:
            raise ConfigError(
                f"CLD_CLOUD_PUBLIC_URL={self.public_url!r} is not valid: "
                "expected no query or fragment"
            )

        relay = urlsplit(self.relay_url.replace("{label}", "label"))

        if relay.scheme not in {"http", "https"} or "{label}" not in self.relay_url:
            raise ConfigError(
                f"CLD_CLOUD_RELAY_URL={self.relay_url!r} is not valid: expected "
                "an http:// or https:// URL whose host has {label} in it"
            )

        # A trailing slash would double up in every link built from the URL.
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    @property
    def seed_path(self) -> Path:
        """The seed file actually read."""

        return Path(self.seed_file).expanduser() if self.seed_file else PACKAGED_SEED

    @property
    def issuer(self) -> str:
        """The ``iss`` of every access token."""

        return self.public_url

    @property
    def portal_url(self) -> str:
        """The admin page, handed to daemons as their portal link."""

        return f"{self.public_url}/admin"

    @property
    def secure_cookies(self) -> bool:
        """Whether browsers reach the emulator over HTTPS only."""

        return self.public_url.startswith("https://")


def load_config() -> CloudConfig:
    """The configuration from this process's environment."""

    return load(CloudConfig)
