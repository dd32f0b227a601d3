"""lib/preflight.py on the synthesized stacks, and its failure paths with clients that fail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from lib.preflight import (
    StackFacts,
    check_api_gateway_role,
    check_certificate,
    check_lambda_concurrency,
    check_region,
    client_factory,
)
from lib.settings import EXAMPLE_CUSTOM_DOMAIN, SYNTH_ONLY_SUBSCRIBERS, preset_environ, read_settings
from tests.unit.synth import SynthesizedStack


def test_facts_of_each_synthesized_environment_match_its_config(stacks: dict[str, SynthesizedStack]) -> None:
    for environment in ("dev", "staging", "prod"):
        stack = stacks[environment]
        config = read_settings(preset_environ(environment, SYNTH_ONLY_SUBSCRIBERS)).config
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
        # Staging and prod are served on their custom domain (the example one in these synths).
        expected_domain = None
        if config.edge.custom_domain_required:
            expected_domain = (
                f"api.{environment}.example.com",
                EXAMPLE_CUSTOM_DOMAIN["API_CERTIFICATE_ARN"],
            )
        assert facts.custom_domain == expected_domain


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


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


class Acm:
    """ACM's DescribeCertificate answering one certificate."""

    def __init__(self, status: str, domain: str, alternatives: list[str]) -> None:
        self.certificate = {"Status": status, "DomainName": domain, "SubjectAlternativeNames": alternatives}

    def describe_certificate(self, CertificateArn: str) -> dict[str, Any]:
        assert CertificateArn == CERTIFICATE
        return {"Certificate": self.certificate}


def _domain_facts(domain: str = "api.pay.example.com", certificate: str = CERTIFICATE) -> StackFacts:
    return StackFacts(region="us-east-1", reservations={}, stage_logging=True, custom_domain=(domain, certificate))


@pytest.mark.parametrize(
    "acm",
    [
        Acm("ISSUED", "api.pay.example.com", ["api.pay.example.com"]),
        # A wildcard of the parent domain covers it.
        Acm("ISSUED", "pay.example.com", ["pay.example.com", "*.pay.example.com"]),
    ],
)
def test_an_issued_certificate_that_covers_the_domain_passes(acm: Acm) -> None:
    check = check_certificate(_domain_facts(), lambda service: acm)
    assert (check.status, check.message) == ("ok", f"api.pay.example.com: {CERTIFICATE} (ISSUED, us-east-1)")


@pytest.mark.parametrize(
    ("acm", "message"),
    [
        (
            Acm("PENDING_VALIDATION", "api.pay.example.com", ["api.pay.example.com"]),
            f"{CERTIFICATE} is PENDING_VALIDATION, not ISSUED: API Gateway refuses it for api.pay.example.com",
        ),
        (
            # A wildcard covers one label only: *.example.com does not cover api.pay.example.com.
            Acm("ISSUED", "example.com", ["example.com", "*.example.com"]),
            f"{CERTIFICATE} covers *.example.com, example.com, not api.pay.example.com",
        ),
    ],
)
def test_a_certificate_not_issued_or_not_covering_the_domain_fails(acm: Acm, message: str) -> None:
    check = check_certificate(_domain_facts(), lambda service: acm)
    assert (check.status, check.message) == ("FAIL", message)


def test_a_certificate_of_another_region_or_unreadable_fails() -> None:
    elsewhere = CERTIFICATE.replace("us-east-1", "eu-west-1")
    check = check_certificate(_domain_facts(certificate=elsewhere), lambda service: Failing(AssertionError()))
    assert (check.status, check.message) == (
        "FAIL",
        f"{elsewhere} is in eu-west-1; a regional domain needs one in us-east-1",
    )
    check = check_certificate(_domain_facts(), lambda service: Failing(denied("DescribeCertificate")))
    assert check.status == "FAIL"
    assert check.message.startswith(f"cannot read {CERTIFICATE}: An error occurred (AccessDenied)")


def test_no_custom_domain_is_reported_with_what_the_api_then_accepts() -> None:
    check = check_certificate(FACTS, lambda service: Failing(AssertionError()))
    assert (check.status, check.message) == (
        "ok",
        "no custom domain: the API answers on its execute-api endpoint (TLS 1.0 and up)",
    )
