"""Every answer is counted, timed and tagged with a request id."""

from __future__ import annotations

from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry


def test_requests_are_counted_by_endpoint_method_and_status(
    client: FlaskClient, registry: CollectorRegistry
) -> None:
    client.get("/cld/healthz")
    client.get("/cld/healthz")
    client.get("/cld/")
    client.get("/cld/nowhere")

    def count(endpoint: str, status: str) -> float | None:
        return registry.get_sample_value(
            "cld_ui_requests_total",
            {"endpoint": endpoint, "method": "GET", "status": status},
        )

    assert count("dashboard.healthz", "200") == 2
    assert count("dashboard.index", "302") == 1
    assert count("unmatched", "404") == 1
    assert (
        registry.get_sample_value(
            "cld_ui_request_duration_seconds_count",
            {"endpoint": "dashboard.healthz", "method": "GET"},
        )
        == 2
    )


def test_a_sane_request_id_is_kept_and_others_replaced(client: FlaskClient) -> None:
    kept = client.get("/cld/healthz", headers={"X-Request-Id": "abc-123"})
    replaced = client.get("/cld/healthz", headers={"X-Request-Id": "a b"})

    assert kept.headers["X-Request-Id"] == "abc-123"
    assert len(replaced.headers["X-Request-Id"]) == 32
