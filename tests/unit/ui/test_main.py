"""The ui's own checks of its settings, before gunicorn starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.config import Config
from services.common.settings import ConfigError, load
from services.ui.__main__ import check, fresh_metrics_dir


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CLD_UI_WORKERS", "0"), ("CLD_UI_TRUSTED_PROXIES", "proxy.example")],
)
def test_a_bad_ui_setting_names_its_variable(variable: str, value: str) -> None:
    # A malformed value stops loading; a well-formed one the ui cannot use
    # stops its own check: either way the variable is named.
    with pytest.raises(ConfigError, match=variable):
        check(load(Config, {variable: value}))


def test_the_defaults_pass() -> None:
    check(load(Config, {}))


def test_the_metrics_folder_starts_empty(tmp_path: Path) -> None:
    old = fresh_metrics_dir(tmp_path)
    (old / "counter_123.db").write_bytes(b"stale")

    fresh = fresh_metrics_dir(tmp_path)

    assert fresh == old
    assert list(fresh.iterdir()) == []
