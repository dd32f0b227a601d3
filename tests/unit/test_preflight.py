"""lib/preflight.py on the synthesized stacks, and its failure paths with clients that fail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from lib.config import config_for
from lib.preflight import (
    StackFacts,
    check_api_gateway_role,
    check_lambda_concurrency,
    check_region,
    client_factory,
)
from lib.settings import read_settings
from tests.unit.synth import SynthesizedStack


def test_facts_of_each_synthesized_environment_match_its_config(stacks: dict[str, SynthesizedStack]) -> None:
    for environment in ("dev", "staging", "prod"):
        stack = stacks[environment]
        config = config_for(environment)
        facts = StackFacts.from_document(stack.document)
        functions = stack.resources("aws_lambda_function").values()
        expected = {
            function["function_name"]: function["reserved_concurrent_executions"]
            for function in functions
            if function.get("reserved_concurrent_executions", -1) >= 0
        }
        assert facts.region == "us-east-1"
        assert facts.reservations == expected
        # The stage has access logs and INFO execution logging in every environment.
        assert facts.stage_logging, config.environment


class Failing:
    """A client whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise self.error

        return call


def denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)


FACTS = StackFacts(region="us-east-1", reservations={"api-x": 5}, stage_logging=True)


def test_no_credentials_fail_the_region_check() -> None:
    check = check_region(FACTS, read_settings({}), lambda service: Failing(NoCredentialsError()))
    assert (check.status, check.message) == ("FAIL", "cannot call AWS in us-east-1: Unable to locate credentials")


def test_unreadable_lambda_settings_fail() -> None:
    check = check_lambda_concurrency(FACTS, lambda service: Failing(denied("GetAccountSettings")), "dev")
    assert check.status == "FAIL"
    assert check.message.startswith("cannot read the account's Lambda settings: An error occurred (AccessDenied)")


class Lambda:
    def get_account_settings(self) -> dict[str, Any]:
        return {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}}

    def get_function_concurrency(self, FunctionName: str) -> dict[str, Any]:
        raise denied("GetFunctionConcurrency")


def test_a_denied_reservation_read_is_not_taken_for_a_missing_function() -> None:
    check = check_lambda_concurrency(FACTS, lambda service: Lambda(), "dev")
    assert check.status == "FAIL" and "GetFunctionConcurrency" in check.message


class ApiGateway:
    def get_account(self) -> dict[str, Any]:
        return {"cloudwatchRoleArn": "arn:aws:iam::123456789012:role/logs"}


class Iam:
    def get_role(self, RoleName: str) -> dict[str, Any]:
        trust = {"Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}}
        return {"Role": {"AssumeRolePolicyDocument": json.dumps(trust)}}


def test_api_gateway_role_checks() -> None:
    clients: dict[str, Any] = {"apigateway": ApiGateway(), "iam": Iam()}
    untrusted = check_api_gateway_role(FACTS, clients.__getitem__)
    unreadable = check_api_gateway_role(FACTS, lambda service: Failing(denied("GetAccount")))
    no_logging = check_api_gateway_role(
        StackFacts(region="us-east-1", reservations={}, stage_logging=False), lambda service: Failing(denied("x"))
    )

    assert (untrusted.status, untrusted.message) == (
        "FAIL",
        "arn:aws:iam::123456789012:role/logs does not trust apigateway.amazonaws.com: API Gateway cannot use it",
    )
    assert unreadable.status == "FAIL" and unreadable.message.startswith("cannot read API Gateway's account settings")
    assert (no_logging.status, no_logging.message) == ("ok", "the stage does not log, no account role needed")


@pytest.mark.parametrize(
    ("environ", "endpoint"), [({}, None), ({"LOCAL_CLOUD_ENDPOINT": "http://127.0.0.1:1"}, "http://127.0.0.1:1")]
)
def test_clients_use_the_emulator_only_when_told(environ: dict[str, str], endpoint: str | None) -> None:
    client = client_factory("eu-west-1", environ)("sqs")
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == (endpoint or "https://sqs.eu-west-1.amazonaws.com")
