from pathlib import Path

import pytest
from flask.testing import FlaskClient

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.seed import SeedError
from services.common.settings import load


def test_health(client: FlaskClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_jwks(client: FlaskClient) -> None:
    response = client.get("/2017-09-01/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.json is not None
    (key,) = response.json["keys"]
    assert key["kty"] == "EC"
    assert "d" not in key


def test_api_errors_are_json(client: FlaskClient) -> None:
    missing = client.get("/2017-09-01/nothing-here")
    wrong_method = client.get("/2017-09-01/token")

    assert missing.status_code == 404
    assert missing.json is not None
    assert missing.json["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json is not None
    assert wrong_method.json["error"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]


def test_page_errors_are_html(client: FlaskClient) -> None:
    response = client.get("/nothing-here")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<title>CloudLink</title>" in response.get_data(as_text=True)


def test_request_ids(client: FlaskClient) -> None:
    given = client.get("/health", headers={"X-Request-Id": "abc-123"})
    made = client.get("/health", headers={"X-Request-Id": "bad id <script>"})

    assert given.headers["X-Request-Id"] == "abc-123"
    assert len(made.headers["X-Request-Id"]) == 32


def test_the_stylesheet(client: FlaskClient) -> None:
    response = client.get("/static/style.css")

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_a_bad_seed_stops_start_up(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"partners": [], "accounts": [], "users": [{}]}')
    config = load(
        CloudConfig,
        {
            "CLD_CLOUD_STATE_DIR": str(tmp_path / "state"),
            "CLD_CLOUD_SEED_FILE": str(seed),
        },
    )

    with pytest.raises(SeedError, match=r"seed\.json: users\[0\]\.role"):
        create_app(config)
