"""HTTP to the CloudLink API: its version path and a session set up for it."""

from __future__ import annotations

import requests

from services.common.config import Config

API = "/2017-09-01"
"""The version path every CloudLink API call starts with."""


def http_session(config: Config) -> requests.Session:
    """A session for cloud calls through the configured proxy and CA."""

    session = requests.Session()

    # The host's proxy setting is the only one that counts, not whatever
    # variables the process happened to inherit.
    session.trust_env = False

    if config.https_proxy:
        session.proxies = {"https": config.https_proxy, "http": config.https_proxy}

    if config.cloud_ca_file:
        session.verify = config.cloud_ca_file

    session.headers["User-Agent"] = "cloudlink-daemon"
    return session
