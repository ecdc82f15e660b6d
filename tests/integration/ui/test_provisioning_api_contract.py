"""Contract tests generated from openapi.yaml, run over real HTTP on the real stack.

Every operation gets valid and invalid requests made up from the document's
schemas; every answer must be documented, match its schema, and never be a
server error. The examples are bounded so the whole run stays near a minute.
"""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import ignored_auth

from services.ui.api import document
from tests.integration.ui.test_provisioning_api import (
    API_CLIENT,
    API_PASSWORD,
    ApiStack,
    linked_stack,
)

__all__ = ["linked_stack"]

# A user CloudLink refuses (an empty name, an e-mail already in use) is a
# well-formed request answered 422 with the reason: the document's schemas
# check a request's shape, the daemon its content.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "404", "409", "422", "429"]
            }
        }
    }
)

schema = schemathesis.openapi.from_dict(document.document(), config=CONFIG)

# Per operation; the users and synchronizations made up go to the emulator.
EXAMPLES = 15

# Given outright, so that schemathesis knows the credentials are meant to be
# valid and leaves the generated ones out.
AUTHORIZATION = requests.auth._basic_auth_str(API_CLIENT, API_PASSWORD)

# That check proves the credentials are enforced by sending wrong passwords,
# and the API's throttle would then lock this test's own address out for five
# minutes. Credentials are tested by name in test_provisioning_api and in
# the unit tests instead.
NOT_RUN = [ignored_auth]


def test_the_served_document_is_the_one_in_the_repository(
    linked_stack: ApiStack,
) -> None:
    served = requests.get(f"{linked_stack.api}/openapi.json", timeout=10)

    assert served.status_code == 200
    assert served.json() == document.document()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_every_operation_keeps_to_the_document(
    case: Case, linked_stack: ApiStack
) -> None:
    case.call_and_validate(
        base_url=linked_stack.api,
        headers={"Authorization": AUTHORIZATION},
        excluded_checks=NOT_RUN,
        timeout=30,
    )
