"""The handler runtime against the contract: environments, error names, factories, the HTTP table."""

from __future__ import annotations

from typing import Any

import pytest
from payment_core import api_contract, contract, errors
from payment_core.api.errors import HTTP_ERRORS, http_error_for
from payment_core.runtime import FunctionRuntime
from payment_core.settings import FunctionVariables, read_environment

from testkit.handlers import FUNCTIONS, load_handler


def environment_type(function: str) -> type[Any]:
    """The environment class ``function``'s handler module declares (imported within a test, after
    the autouse fixture set the environment its Powertools read)."""
    kind: type[Any] = load_handler(function).runtime.environment_type
    return kind


ENVIRONMENT = {name: f"value-of-{name}" for names in contract.FUNCTION_ENVIRONMENT.values() for name in names} | {
    contract.MAX_PAYMENT_AMOUNT: "USD=100",
    contract.ALLOWED_CURRENCIES: "USD",
    contract.BATCH_RECORDS_PER_CHUNK: "500",
    contract.BATCH_MAX_FILE_BYTES: "1000000000",
    contract.SWEEP_STALE_AFTER_SECONDS: "960",
    contract.PROCESSOR_CONNECTOR: contract.PROCESSOR_SIMULATOR,
    contract.BATCH_TIME_RESERVE_MS: "5000",
    contract.BATCH_RERUN_WINDOW_DAYS: "90",
    contract.EVENT_RETENTION_DAYS: "30",
    contract.PAGE_TOKEN_KEY_VERSION: "1",
    contract.START_INTERVAL_MS: "143",
    contract.START_RETRY_BASE_MS: "100",
    contract.START_RETRY_MAX_MS: "5000",
    contract.START_TIME_RESERVE_MS: "1000",
    contract.IN_FLIGHT_LIMIT: "70",
    contract.WEBHOOK_SECRET_OVERLAP_SECONDS: "3600",
    contract.WEBHOOK_HORIZON_SECONDS: "3600",
    contract.WEBHOOK_BACKOFF_BASE_SECONDS: "5",
    contract.WEBHOOK_BACKOFF_CAP_SECONDS: "600",
}


def test_the_exception_names_the_state_machine_matches_are_the_contracts():
    assert (
        errors.PaymentRejected.__name__,
        errors.PaymentDeclined.__name__,
        errors.TransientProcessorError.__name__,
    ) == (contract.PAYMENT_REJECTED, contract.PAYMENT_DECLINED, contract.TRANSIENT_PROCESSOR_ERROR)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_reads_exactly_the_variables_the_contract_gives_it(function):
    variables = FunctionVariables(function, ENVIRONMENT)
    read_environment(environment_type(function), variables)
    expected = set(contract.FUNCTION_ENVIRONMENT[function]) - set(contract.POWERTOOLS_ENVIRONMENT)
    assert sorted(variables.names_read) == sorted(expected)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_runs_on_its_own_functions_runtime(function):
    runtime = load_handler(function).runtime
    assert isinstance(runtime, FunctionRuntime)
    assert runtime.function == function


def test_a_variable_outside_the_contract_is_refused():
    with pytest.raises(LookupError, match=r"STATUS_TOPIC_ARN is not in contract.FUNCTION_ENVIRONMENT\['api'\]"):
        FunctionVariables(contract.API, ENVIRONMENT).required(contract.STATUS_TOPIC_ARN)


@pytest.mark.parametrize("raw", ["", "0", "-5", "1.5", "ten", "٣"])
def test_records_per_chunk_must_be_a_positive_integer(raw):
    environment = ENVIRONMENT | {contract.BATCH_RECORDS_PER_CHUNK: raw}
    expected = "is not set" if raw == "" else "must be a positive integer"
    with pytest.raises((RuntimeError, ValueError), match=f"BATCH_RECORDS_PER_CHUNK {expected}"):
        read_environment(environment_type(contract.BATCH_INGEST), FunctionVariables(contract.BATCH_INGEST, environment))


def test_blocked_merchants_may_be_empty_and_only_the_workflow_reads_them():
    environment = ENVIRONMENT | {contract.BLOCKED_MERCHANT_IDS: ""}

    def blocked(function, environment):
        kind = environment_type(function)
        return read_environment(kind, FunctionVariables(function, environment)).rules.blocked_merchant_ids

    assert blocked(contract.WORKFLOW, environment) == frozenset()
    listed = ENVIRONMENT | {contract.BLOCKED_MERCHANT_IDS: " m-1, ,m-2 "}
    assert blocked(contract.WORKFLOW, listed) == {"m-1", "m-2"}
    assert blocked(contract.API, listed) == frozenset()


def test_a_missing_variable_fails_the_first_invocation_naming_it(aws, context, monkeypatch):
    runtime = aws.handlers["workflow"].runtime
    monkeypatch.delenv(contract.STATUS_TOPIC_ARN)
    runtime.environment.reset()
    with pytest.raises(RuntimeError, match=r"^environment variable STATUS_TOPIC_ARN is not set$"):
        aws.handlers["workflow"].handler({"step": "no such step"}, context)  # refused before the event is read


def test_the_environment_is_read_once(aws, context, monkeypatch):
    handler = aws.handlers["workflow"]
    first = handler.runtime.environment()
    monkeypatch.setenv(contract.MAX_PAYMENT_AMOUNT, "USD=1")
    with pytest.raises(errors.InvalidRequest):
        handler.handler({"step": "no such step"}, context)
    assert handler.runtime.environment() is first


def test_replacing_a_client_rebuilds_what_was_built_from_it(aws):
    runtime = aws.handlers["queue_consumer"].runtime
    before = runtime.payment_repository()
    assert runtime.payment_repository() is before

    class OtherClient:
        pass

    replacement = OtherClient()
    runtime.dynamodb.override(replacement)
    after = runtime.payment_repository()
    assert after is not before
    assert after._client is replacement


def test_every_api_answer_comes_from_the_table():
    codes = [(answer.status, answer.code) for answer in HTTP_ERRORS.values()]
    # only not_found answers several errors (no payment, refund, event, webhook endpoint, route)
    assert len(set(codes)) == len(codes) - 4
    for workflow_error in (errors.PaymentRejected, errors.PaymentDeclined, errors.TransientProcessorError):
        assert workflow_error not in HTTP_ERRORS
        assert http_error_for(workflow_error("x")).status == 500  # never reaches the API: internal if it did


def test_the_api_serves_exactly_the_routes_api_gateway_has():
    """API Gateway's resources and methods are built from api_contract.ROUTES and the function
    dispatches on the one API Gateway matched: a route in one and not the other would be a 404
    from the function, or a handler API Gateway never sends anything to."""
    served = load_handler(contract.API).routes.keys
    assert sorted(served) == sorted((route.method, route.path) for route in api_contract.ROUTES)


def test_an_unknown_processor_connector_fails_the_cold_start_naming_it():
    environment = ENVIRONMENT | {contract.PROCESSOR_CONNECTOR: "stripe"}
    variables = FunctionVariables(contract.WORKFLOW, environment)
    with pytest.raises(ValueError, match=r"^PROCESSOR_CONNECTOR must be one of simulator, got 'stripe'$"):
        read_environment(environment_type(contract.WORKFLOW), variables)
