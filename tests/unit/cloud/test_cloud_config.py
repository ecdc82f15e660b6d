from pathlib import Path

import pytest

from cloud.config import PACKAGED_SEED, CloudConfig
from services.common.settings import ConfigError, load


def test_defaults() -> None:
    config = load(CloudConfig, {})

    assert config.bind == "127.0.0.1:8800"
    assert config.public_url == "http://127.0.0.1:8800"
    assert config.state_dir == Path("/var/lib/cld-cloud")
    assert config.seed_path == PACKAGED_SEED
    assert config.token_ttl == 3600
    assert config.log_level == "INFO"
    assert config.portal_url == "http://127.0.0.1:8800/admin"
    assert not config.secure_cookies


def test_public_url_loses_its_trailing_slash() -> None:
    config = load(CloudConfig, {"CLD_CLOUD_PUBLIC_URL": "https://cloud.example/"})

    assert config.issuer == "https://cloud.example"
    assert config.secure_cookies


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLD_CLOUD_PUBLIC_URL", "cloud.example"),
        ("CLD_CLOUD_PUBLIC_URL", "ftp://cloud.example"),
        ("CLD_CLOUD_PUBLIC_URL", "http://cloud.example/?x=1"),
        ("CLD_CLOUD_BIND", "8800"),
        ("CLD_CLOUD_TOKEN_TTL", "0"),
        ("CLD_CLOUD_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load(CloudConfig, {variable: value})


def test_seed_file_setting(tmp_path: Path) -> None:
    config = load(CloudConfig, {"CLD_CLOUD_SEED_FILE": str(tmp_path / "seed.json")})

    assert config.seed_path == tmp_path / "seed.json"
