"""Fixtures shared by the registration service's integration tests."""

from __future__ import annotations

import pytest

from tests.integration.registration.provisioning_support import CloudView, link
from tests.support.processes import Cloud, Service


@pytest.fixture
def linked(registration: Service, cloud: Cloud) -> CloudView:
    """The registration service linked, and the emulator's view of its users."""

    link(registration)
    return CloudView(cloud, registration)
