from pathlib import Path

import pytest

from services.common.config import Config
from services.common.settings import ConfigError, fields_of, load, markdown_table

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_need_no_environment() -> None:
    config = load(Config, {})

    assert config.mqtt_port == 1883
    assert config.state_dir == Path("/var/lib/cld")
    assert config.ui_secure_cookies is True
    assert config.service_state_dir("registration") == Path("/var/lib/cld/registration")


def test_values_are_parsed_by_type() -> None:
    config = load(
        Config,
        {
            "CLD_MQTT_PORT": "11883",
            "CLD_UI_SECURE_COOKIES": "no",
            "CLD_CLOUD_TIMEOUT": "2.5",
            "CLD_LOG_LEVEL": "debug",
        },
    )

    assert config.mqtt_port == 11883
    assert config.ui_secure_cookies is False
    assert config.cloud_timeout == 2.5
    assert config.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLD_MQTT_PORT", "eighty"),
        ("CLD_MQTT_PORT", "70000"),
        ("CLD_UI_SECURE_COOKIES", "maybe"),
        ("CLD_CLOUD_TIMEOUT", "-1"),
        ("CLD_LOG_LEVEL", "LOUD"),
        ("CLD_UI_BIND", "8080"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load(Config, {variable: value})


def test_the_readme_lists_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()

    for line in markdown_table(Config).splitlines()[2:]:
        assert line in readme, f"README.md lacks or misstates: {line}"

    assert len(list(fields_of(Config))) > 10
