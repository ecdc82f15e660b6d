"""Every setting of the relay, with its variable and default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.common.settings import (
    Address,
    ConfigError,
    LogLevel,
    Port,
    Seconds,
    load,
    setting,
)


@dataclass(frozen=True)
class RelayConfig:
    """The relay's configuration."""

    daemon_bind: Address = setting(
        "CLD_RELAY_DAEMON_BIND",
        "127.0.0.1:8801",
        "Address daemons connect to (TLS).",
    )
    public_bind: Address = setting(
        "CLD_RELAY_PUBLIC_BIND",
        "127.0.0.1:8802",
        "Address visitors' HTTP requests arrive on.",
    )
    public_scheme: str = setting(
        "CLD_RELAY_PUBLIC_SCHEME",
        "http",
        "Scheme of the public URLs: https when a TLS front (or this relay's "
        "public TLS) serves them.",
    )
    public_port: Port = setting(
        "CLD_RELAY_PUBLIC_PORT",
        "0",
        "Port written in the public URLs; 0 is the public bind's port.",
    )
    public_tls: bool = setting(
        "CLD_RELAY_PUBLIC_TLS",
        "false",
        "Serve the public ingress over TLS with the relay's certificate.",
    )
    public_tls_cert: str = setting(
        "CLD_RELAY_PUBLIC_TLS_CERT",
        "",
        "Certificate chain (PEM) of the public ingress, for *.<region>.relay."
        "<domain>; empty serves the relay's own certificate.",
    )
    public_tls_key: str = setting(
        "CLD_RELAY_PUBLIC_TLS_KEY",
        "",
        "Private key of CLD_RELAY_PUBLIC_TLS_CERT (PEM).",
    )
    domain: str = setting(
        "CLD_RELAY_DOMAIN",
        "localhost",
        "Public hosts are <id>.<region>.relay.<domain>.",
    )
    region: str = setting("CLD_RELAY_REGION", "eu", "The region this relay serves.")
    cloud_url: str = setting(
        "CLD_RELAY_CLOUD_URL",
        "http://127.0.0.1:8800",
        "CloudLink API base: the token keys and the systems' owners.",
    )
    issuer: str = setting(
        "CLD_RELAY_ISSUER",
        "",
        "Issuer of acceptable access tokens; empty is CLD_RELAY_CLOUD_URL.",
    )
    state_dir: Path = setting(
        "CLD_RELAY_STATE_DIR",
        "/var/lib/cld-relay",
        "Durable state: known public hosts, the development certificate.",
    )
    tls_cert: str = setting(
        "CLD_RELAY_TLS_CERT",
        "",
        "Certificate chain (PEM); empty makes a self-signed one in the state dir.",
    )
    tls_key: str = setting(
        "CLD_RELAY_TLS_KEY", "", "Private key of CLD_RELAY_TLS_CERT (PEM)."
    )
    heartbeat: Seconds = setting(
        "CLD_RELAY_HEARTBEAT",
        "5",
        "Seconds between heartbeats a daemon is asked to send.",
    )
    busy_poll_us: int = setting(
        "CLD_RELAY_BUSY_POLL_US",
        "500",
        "Microseconds the relay polls after traffic before it sleeps: lower "
        "latency for a little CPU while visitors are active; 0 is off.",
    )
    idle_timeout: Seconds = setting(
        "CLD_RELAY_IDLE_TIMEOUT",
        "15",
        "A daemon connection silent this long is closed as dead.",
    )
    metrics_bind: str = setting(
        "CLD_RELAY_METRICS_BIND",
        "127.0.0.1:9470",
        "Address of the relay's /metrics; empty is off.",
    )
    log_level: LogLevel = setting("CLD_RELAY_LOG_LEVEL", "INFO", "Lowest level logged.")

    def __post_init__(self) -> None:
        if self.public_scheme not in {"http", "https"}:
            raise ConfigError(
                f"CLD_RELAY_PUBLIC_SCHEME={self.public_scheme!r} is not valid: "
                "expected http or https"
            )

        if not _is_hostname(self.domain):
            raise ConfigError(
                f"CLD_RELAY_DOMAIN={self.domain!r} is not valid: expected a DNS name"
            )

        if not _is_label(self.region):
            raise ConfigError(
                f"CLD_RELAY_REGION={self.region!r} is not valid: expected one DNS label"
            )

        if urlsplit(self.cloud_url).scheme not in {"http", "https"}:
            raise ConfigError(
                f"CLD_RELAY_CLOUD_URL={self.cloud_url!r} is not valid: "
                "expected an http:// or https:// URL"
            )

        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("CLD_RELAY_TLS_CERT and CLD_RELAY_TLS_KEY go together")

        if bool(self.public_tls_cert) != bool(self.public_tls_key):
            raise ConfigError(
                "CLD_RELAY_PUBLIC_TLS_CERT and CLD_RELAY_PUBLIC_TLS_KEY go together"
            )

        if self.public_tls_cert and not self.public_tls:
            raise ConfigError(
                "CLD_RELAY_PUBLIC_TLS_CERT is set but CLD_RELAY_PUBLIC_TLS is false: "
                "the ingress would serve plain HTTP"
            )

        object.__setattr__(self, "cloud_url", self.cloud_url.rstrip("/"))

    @property
    def host_suffix(self) -> str:
        """What every public host ends with, after its first label."""

        return f"{self.region}.relay.{self.domain}".lower()

    @property
    def token_issuer(self) -> str:
        """The ``iss`` acceptable access tokens carry."""

        return self.issuer or self.cloud_url

    def public_url_template(self, bound_port: int) -> str:
        """The public URL with ``{label}`` where a tunnel's label goes."""

        port = self.public_port or bound_port
        default = 443 if self.public_scheme == "https" else 80
        shown = "" if port == default else f":{port}"
        return f"{self.public_scheme}://{{label}}.{self.host_suffix}{shown}"


def _is_label(text: str) -> bool:
    return (
        0 < len(text) <= 63
        and text.replace("-", "").isalnum()
        and text.isascii()
        and not text.startswith("-")
        and not text.endswith("-")
    )


def _is_hostname(text: str) -> bool:
    return 0 < len(text) <= 200 and all(_is_label(p) for p in text.split("."))


def load_config() -> RelayConfig:
    """The configuration from this process's environment."""

    return load(RelayConfig)
