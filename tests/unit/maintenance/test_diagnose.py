"""Diagnose: the advice for each kind of trouble, and the checks on real sockets."""

from __future__ import annotations

import ssl

from maintenance import diagnose
from maintenance.diagnose import FAILED, OK, WARNING, Endpoint, drift_finding
from tests.support.processes import Cloud, free_port

RELAY = Endpoint("relay", "relay.example", 443, True)


def test_drift_beyond_the_tunnel_limit_fails_with_advice() -> None:
    assert drift_finding("c", 2).status == OK
    assert drift_finding("c", -20).status == WARNING

    finding = drift_finding("c", 60)
    assert finding.status == FAILED
    assert "60s ahead of" in finding.detail
    assert "NTP" in finding.advice


def test_tls_advice_names_the_likely_cause() -> None:
    untrusted = ssl.SSLCertVerificationError()
    untrusted.verify_message = "self-signed certificate in certificate chain"
    assert "CLD_TUNNEL_RELAY_CA_FILE" in diagnose.tls_advice(untrusted, RELAY)

    expired = ssl.SSLCertVerificationError()
    expired.verify_message = "certificate has expired"
    assert "clock" in diagnose.tls_advice(expired, RELAY)


def test_the_proxy_setting_is_read_without_showing_its_password() -> None:
    proxy = diagnose.proxy_of({"CLD_HTTPS_PROXY": "http://u:p%40ss@proxy.lan:8080"})

    assert proxy is not None
    assert (proxy.username, proxy.password) == ("u", "p@ss")
    assert proxy.target == "proxy.lan:8080"
    assert diagnose.proxy_of({}) is None


def test_checks_against_the_emulator_find_the_missing_relay(cloud: Cloud) -> None:
    relay_port = free_port()
    findings = diagnose.run_checks(
        {"CLD_CLOUD_URL": cloud.url, "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay_port}"}
    )
    by_check = {(f.check, f.target): f for f in findings}

    assert by_check[("connect", cloud.url.removeprefix("http://"))].status == OK
    assert by_check[("clock", cloud.url.removeprefix("http://"))].status == OK

    relay = by_check[("tls", f"127.0.0.1:{relay_port}")]
    assert relay.status == FAILED
    assert "cannot connect to the relay" in relay.detail
    assert relay.advice


def test_an_unreachable_proxy_is_reported(cloud: Cloud) -> None:
    port = free_port()
    findings = diagnose.run_checks(
        {"CLD_CLOUD_URL": cloud.url, "CLD_HTTPS_PROXY": f"http://127.0.0.1:{port}"}
    )
    proxy = next(f for f in findings if f.check == "proxy")

    assert proxy.status == FAILED
    assert "the proxy" in proxy.detail
