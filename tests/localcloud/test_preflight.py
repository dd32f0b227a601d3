"""``make preflight`` (lib/preflight.py) against the emulator: each check passing and failing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lib.preflight import (
    StackFacts,
    check_api_gateway_role,
    check_certificate,
    check_lambda_concurrency,
    check_state_bucket,
    main,
)
from lib.settings import CERTIFICATE_VARIABLE, read_settings
from localcloud import LocalCloud
from testkit import deployment
from testkit.deployment import environment_variables
from testkit.secret_scan import file_records, log_records, scan
from tests.localcloud.conftest import make_zip

ClientFactory = Callable[[str], Any]


def stack_document(region: str = "us-east-1", reservations: dict[str, int] | None = None) -> dict[str, Any]:
    """The parts of a synthesized cdk.tf.json the preflight reads."""
    functions = {
        f"fn_{name}": {"function_name": name, "reserved_concurrent_executions": count}
        for name, count in (reservations or {}).items()
    }
    functions["fn_unreserved"] = {"function_name": "unreserved"}
    return {
        "provider": {"aws": [{"region": region}]},
        "resource": {
            "aws_lambda_function": functions,
            "aws_api_gateway_stage": {"stage": {"access_log_settings": [{"destination_arn": "arn", "format": "{}"}]}},
            "aws_api_gateway_method_settings": {"all": {"settings": {"logging_level": "INFO"}}},
        },
    }


def test_stack_facts_read_reservations_region_and_logging() -> None:
    document = stack_document("eu-west-1", {"api-dev": 5, "batch-dev": 2})
    document["resource"]["aws_lambda_function"]["fn_default"] = {
        "function_name": "default",
        "reserved_concurrent_executions": -1,
    }

    facts = StackFacts.from_document(document)

    assert facts == StackFacts(region="eu-west-1", reservations={"api-dev": 5, "batch-dev": 2}, stage_logging=True)
    del document["resource"]["aws_api_gateway_stage"]
    document["resource"]["aws_api_gateway_method_settings"]["all"]["settings"]["logging_level"] = "OFF"
    assert not StackFacts.from_document(document).stage_logging


def test_lambda_concurrency_says_how_many_more_stacks_fit(aws: ClientFactory) -> None:
    facts = StackFacts.from_document(stack_document(reservations={"api-pf": 5, "workflow-pf": 5, "batch-pf": 2}))

    check = check_lambda_concurrency(facts, aws, "dev")

    # Quota 1000, nothing reserved in this emulator: 900 may be reserved; 12 per stack.
    assert check.status == "ok"
    assert check.message == (
        "the stack reserves 12 (api-pf 5, batch-pf 2, workflow-pf 5); account quota 1000, 1000 unreserved, "
        "Lambda keeps 100 unreserved; room for 74 more dev stack(s) after this one"
    )


def test_lambda_concurrency_fails_on_a_new_account(tmp_path: Path) -> None:
    facts = StackFacts.from_document(stack_document(reservations={"api-pf": 5, "workflow-pf": 5}))
    nothing_reserved = StackFacts.from_document(stack_document())
    with LocalCloud(tmp_path / "state", lambda_concurrency_limit=50) as cloud:
        check = check_lambda_concurrency(facts, client_for(cloud.endpoint), "dev")
        assert check_lambda_concurrency(nothing_reserved, client_for(cloud.endpoint), "dev").status == "ok"

    assert check.status == "FAIL"
    assert check.message == (
        "the stack reserves 10 (api-pf 5, workflow-pf 5) but only 0 can be reserved (account quota 50, "
        "50 unreserved, Lambda keeps 50 unreserved): PutFunctionConcurrency would be refused. Ask for a quota "
        "of at least 110 (Service Quotas: Lambda 'Concurrent executions') or reserve less"
    )


def test_an_update_counts_the_stacks_own_reservations_as_available(
    aws: ClientFactory, role_arn: str, unique: str
) -> None:
    name = f"reserved-{unique}"
    aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": "def handler(e, c):\n    return 1\n"})},
    )
    aws("lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=450)
    try:
        # 550 unreserved - 100 kept = 450 free for others; this stack already holds its 450.
        check = check_lambda_concurrency(StackFacts.from_document(stack_document(reservations={name: 450})), aws, "dev")
        other = check_lambda_concurrency(StackFacts.from_document(stack_document(reservations={"x": 451})), aws, "dev")
    finally:
        aws("lambda").delete_function_concurrency(FunctionName=name)

    assert check.status == "ok" and check.message.endswith("room for 1 more dev stack(s) after this one")
    # 100 kept unreserved + 450 held by the function above + 451 for this stack.
    assert other.status == "FAIL" and "Ask for a quota of at least 1001 " in other.message


def client_for(endpoint: str) -> ClientFactory:
    from lib.preflight import client_factory

    return client_factory("us-east-1", {"LOCAL_CLOUD_ENDPOINT": endpoint})


def test_api_gateway_role_missing_then_untrusted_then_ok(tmp_path: Path) -> None:
    facts = StackFacts.from_document(stack_document())
    with LocalCloud(tmp_path / "state") as cloud:
        clients = client_for(cloud.endpoint)
        missing = check_api_gateway_role(facts, clients)
        role = clients("iam").create_role(
            RoleName="apigw-logs",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]
        clients("apigateway").update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Arn"]}]
        )
        present = check_api_gateway_role(facts, clients)
        adopted = check_api_gateway_role(facts, clients, role["Arn"])
        other = check_api_gateway_role(facts, clients, "arn:aws:iam::123456789012:role/other")
        clients("iam").delete_role(RoleName="apigw-logs")
        deleted = check_api_gateway_role(facts, clients)

    assert missing.status == "warn"
    assert "the account stack (lib/account_stack.py) must be applied before the environment stack" in missing.message
    # Another team's role: TapAccount would replace it unless told to adopt it.
    assert (present.status, present.message) == (
        "warn",
        f"{role['Arn']} is not TapAccount's: set API_GATEWAY_CLOUDWATCH_ROLE_ARN={role['Arn']} to adopt it, or "
        "TapAccount replaces the setting with its own role (docs/operations.md)",
    )
    assert (adopted.status, adopted.message) == ("ok", role["Arn"])
    assert (other.status, other.message) == (
        "FAIL",
        f"API_GATEWAY_CLOUDWATCH_ROLE_ARN adopts arn:aws:iam::123456789012:role/other, but the account setting "
        f"names {role['Arn']}: TapAccount leaves the setting alone when it adopts a role",
    )
    assert deleted.status == "FAIL" and deleted.message.startswith(f"the account setting names {role['Arn']}")


@pytest.mark.parametrize(
    ("versioned", "stated_region", "status", "message"),
    [
        (True, "us-east-1", "ok", "s3://{bucket} (us-east-1, versioned)"),
        (False, "us-east-1", "warn", "s3://{bucket} (us-east-1) has versioning off: a lost state is lost"),
        (True, "eu-west-1", "FAIL", "s3://{bucket} is in us-east-1 but TERRAFORM_STATE_BUCKET_REGION is eu-west-1"),
    ],
)
def test_state_bucket(
    aws: ClientFactory, unique: str, versioned: bool, stated_region: str, status: str, message: str
) -> None:
    bucket = f"state-{unique}"
    aws("s3").create_bucket(Bucket=bucket)
    if versioned:
        aws("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    settings = read_settings({"TERRAFORM_STATE_BUCKET": bucket, "TERRAFORM_STATE_BUCKET_REGION": stated_region})

    check = check_state_bucket(settings, aws)

    assert (check.status, check.message) == (status, message.format(bucket=bucket))


def test_state_bucket_unreachable(aws: ClientFactory) -> None:
    check = check_state_bucket(read_settings({"TERRAFORM_STATE_BUCKET": "no-such-state-bucket"}), aws)
    assert check.status == "FAIL" and check.message.startswith("s3://no-such-state-bucket is not readable")


def test_main_prints_every_check_and_fails_on_a_failed_one(
    cloud: LocalCloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_json = tmp_path / "cdk.tf.json"
    environ = {"ENVIRONMENT": "dev", "ENVIRONMENT_SUFFIX": "pf", "LOCAL_CLOUD_ENDPOINT": cloud.endpoint}
    stack_json.write_text(json.dumps(stack_document(reservations={"api-pf": 5})))

    assert main(["--stack-json", str(stack_json)], environ) == 0
    ready = capsys.readouterr().out.splitlines()

    stack_json.write_text(json.dumps(stack_document("eu-west-1")))
    assert main(["--stack-json", str(stack_json)], environ) == 1
    failed = capsys.readouterr().out.splitlines()

    assert ready[0] == f"preflight TapStackpf (dev) in us-east-1 against {cloud.endpoint}"
    # The session's emulator is a new account: no API Gateway role (a warning, not a failure).
    assert [line.split("]")[0] for line in ready[1:5]] == ["  [ok", "  [ok", "  [warn", "  [ok"]
    assert ready[-1] == "preflight: ready to deploy"
    assert failed[1] == (
        "  [FAIL] region: the stack was synthesized for eu-west-1 but AWS_REGION is us-east-1: synthesize again"
    )
    assert failed[-1] == "preflight: 1 check(s) failed: region"


def test_main_refuses_bad_settings_and_a_missing_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], {"ENVIRONMENT": "qa"}) == 2
    assert main(["--stack-json", str(tmp_path / "missing.json")], {}) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        "preflight: ENVIRONMENT must be one of dev, staging, prod, got 'qa'",
        f"preflight: {tmp_path / 'missing.json'} not found: synthesize first (make synth)",
    ]


def test_an_emulator_deploy_of_prod_is_given_a_domain_whose_certificate_preflight_accepts(
    cloud: LocalCloud, aws: ClientFactory
) -> None:
    # A deploy of prod sets its subscribers, domain and certificate (the presets refuse none of
    # them missing); testkit gives an emulator's deploy the same, the certificate in its ACM.
    variables = environment_variables(cloud.endpoint, "prod", "preflight")
    settings = read_settings({"ENVIRONMENT": "prod", "ENVIRONMENT_SUFFIX": "preflight", **variables})

    assert settings.custom_domain is not None and settings.config.alarms.subscribers
    assert settings.custom_domain.domain_name == "api.preflight.payments.internal"
    domain = (settings.custom_domain.domain_name, settings.custom_domain.certificate_arn)
    check = check_certificate(StackFacts(settings.region, {}, True, domain), aws)
    assert (check.status, check.message) == ("ok", f"{domain[0]}: {domain[1]} (ISSUED, us-east-1)")
    # dev pages nobody and needs no domain: nothing to set.
    assert environment_variables(cloud.endpoint, "dev", "dev") == {}


def test_the_key_a_prod_deploy_imports_into_acm_is_recorded_nowhere(
    cloud: LocalCloud, aws: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # environment_variables fetches a certificate and its key from the emulator's CA and imports
    # both into ACM, which keeps an imported key to itself (as on AWS). The stack names the
    # certificate by ARN only (aws_api_gateway_domain_name's regional_certificate_arn: no
    # aws_acm_certificate resource), so Terraform state never holds the key; what the emulator
    # records of the two requests must not hold it either. The key is the scan's needle as PEM, as
    # a line of its body (what a JSON record of the PEM holds) and base64'd (boto3 sends it so).
    issued: list[dict[str, str]] = []
    issue = deployment.issue_certificate

    def recording_issue(endpoint: str, names: list[str]) -> dict[str, str]:
        issued.append(issue(endpoint, names))
        return issued[-1]

    monkeypatch.setattr(deployment, "issue_certificate", recording_issue)
    variables = environment_variables(cloud.endpoint, "prod", "keyscan")
    assert variables[CERTIFICATE_VARIABLE].startswith("arn:aws:acm:") and len(issued) == 1
    key = issued[0]["key"]
    needles = {
        "imported key": key,
        "imported key's first body line": key.splitlines()[1],
        "imported key, base64": base64.b64encode(key.encode()).decode(),
    }
    records = [*file_records(cloud.state_dir), *log_records(aws("logs"))]
    report = scan(records, needles)
    assert [hit for hit in report.hits if hit[1] in {*needles, "PEM private key"}] == []
    assert {"file:server.log", "file:network/ca.pem"} <= {record.source for record in records}
