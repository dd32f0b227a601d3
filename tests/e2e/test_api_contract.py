"""The published contract against the deployed API: schemathesis drives every route of
docs/openapi.json through the emulator's HTTP front (API Gateway's edge, the authorizer, the api
function) with a merchant's secret key: no 5xx, and every answer (status, headers, body) as the
document says. Bounded (hypothesis ``max_examples`` per route) to stay near a minute.

Also the two front-end behaviours the stack meets on AWS (localcloud/README.md, "API Gateway's
front"): a body that is not UTF-8 reaches the handler as text (never an HTML 500), and a query
parameter with an empty value reaches it and is refused with JSON.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from payment_core import api_contract, contract
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from lib.openapi import DOCUMENT_PATH
from localcloud.execute_api import local_invoke_url
from testkit.deployment import StackDeployment
from testkit.traffic import PlatformClient, bearer

# Not checked: that every schema-valid request is accepted. The business rules are not schema:
# the environment's currencies and per-currency maximum, an amount above zero with the currency's
# decimals, ``from`` not after ``to``; each refusal is a documented 400 with its field.
# Its own merchant: what schemathesis creates stays out of the other tests' merchants.
CONTRACT_MERCHANT = "merchant-contract"
# 15 per route and mode: 25 took 120 s of the e2e suite (fresh-clone run, 2026-12-03), the long
# pole of `make test`; the docstring's budget is about a minute.
MAX_EXAMPLES = 15


@pytest.fixture(scope="session")
def api_base_url(deployment: StackDeployment, platform: PlatformClient) -> str:
    return local_invoke_url(deployment.endpoint, platform.api_id, platform.stage)


@pytest.fixture(scope="session")
def contract_headers(platform: PlatformClient) -> dict[str, str]:
    return bearer(platform.onboard(CONTRACT_MERCHANT)[CONTRACT_MERCHANT])


def _drive(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> None:
    """``MAX_EXAMPLES`` generated requests to one route in one mode, each answer checked; no shrinking
    (a failure is reported as found: shrinking would cost more requests than the whole run)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=base_url, headers=headers, timeout=60, excluded_checks=[positive_data_acceptance]
        )

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_every_route_answers_as_the_document_says(
    mode: GenerationMode, api_base_url: str, contract_headers: dict[str, str]
) -> None:
    published = schemathesis.openapi.from_dict(json.loads(DOCUMENT_PATH.read_text(encoding="utf-8")))
    operations = [result.ok() for result in published.get_all_operations()]
    assert sorted(op.label for op in operations) == sorted(f"{r.method} {r.path}" for r in api_contract.ROUTES)
    for operation in operations:
        _drive(operation, mode, api_base_url, contract_headers)


def test_a_body_that_is_not_utf8_reaches_the_handler_as_text(
    api_base_url: str, contract_headers: dict[str, str]
) -> None:
    headers = {**contract_headers, "Content-Type": "application/json", "Idempotency-Key": "contract-not-utf8"}
    body = b'{"amount": "10.00", "currency": "USD", "customer_ref": "caf\xe9"}'

    answer = requests.post(f"{api_base_url}/payments", data=body, headers=headers, timeout=60)

    # API Gateway hands "caf\ufffd" on as text; the handler accepts printable text, so the payment
    # is created with the replacement character (never a 5xx, never HTML).
    assert answer.status_code == 202, answer.text
    assert answer.headers[contract.API_VERSION_HEADER] == contract.LATEST_API_VERSION


def test_an_empty_query_value_reaches_the_handler_and_is_refused(
    api_base_url: str, contract_headers: dict[str, str]
) -> None:
    answer = requests.get(f"{api_base_url}/payments?limit=", headers=contract_headers, timeout=60)

    assert (answer.status_code, answer.json()) == (
        400,
        {"error": {"code": "invalid_request", "message": "limit must be an integer from 1 to 100", "field": "limit"}},
    )
