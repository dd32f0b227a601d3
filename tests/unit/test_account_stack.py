"""The account stack: API Gateway's CloudWatch role, once per account and region."""

from __future__ import annotations

import json
from functools import cache

from tests.unit.synth import SynthesizedStack

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"


@cache
def synthesized_account_logging() -> SynthesizedStack:
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from lib.account_stack import ApiGatewayAccountLogging

    stack = TerraformStack(Testing.app(), "account")
    AwsProvider(stack, "aws", region=REGION)
    ApiGatewayAccountLogging(stack, "account_logging", account_id=ACCOUNT_ID, region=REGION)
    return SynthesizedStack(stack=stack, text=Testing.synth(stack))


def test_the_account_setting_points_at_a_role_api_gateway_can_assume() -> None:
    stack = synthesized_account_logging()
    role = stack.only("aws_iam_role")
    account = stack.only("aws_api_gateway_account")

    assert role["name"] == "payment-platform-apigw-cloudwatch-eu-west-1"
    assert account["cloudwatch_role_arn"] == stack.reference_of("aws_iam_role", role, "arn")
    trust = stack.policy_document(role["assume_role_policy"])
    assert trust["statement"] == [
        {
            "actions": ["sts:AssumeRole"],
            "effect": "Allow",
            "principals": [{"identifiers": ["apigateway.amazonaws.com"], "type": "Service"}],
        }
    ]


def test_the_setting_waits_for_the_role_policy_and_survives_a_destroy() -> None:
    stack = synthesized_account_logging()
    policy = stack.only("aws_iam_role_policy")
    account = stack.only("aws_api_gateway_account")

    # API Gateway assumes the role when the setting is made: the permissions must exist first.
    (policy_id,) = stack.resources("aws_iam_role_policy")
    assert policy["name"] == "write-api-gateway-logs"
    assert account["depends_on"] == [f"aws_iam_role_policy.{policy_id}"]
    assert account["reset_on_delete"] is False
    assert stack.only("aws_iam_role")["lifecycle"] == {"prevent_destroy": True}


def test_the_role_writes_only_api_gateway_log_groups() -> None:
    stack = synthesized_account_logging()
    document = stack.policy_document(stack.only("aws_iam_role_policy")["policy"])
    groups = [
        f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:API-Gateway-Execution-Logs_*",
        f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/apigateway/*",
    ]
    assert json.loads(json.dumps(document["statement"])) == [
        {
            "sid": "WriteApiGatewayLogs",
            "effect": "Allow",
            "actions": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "resources": [*groups, *(f"{group}:*" for group in groups)],
        },
        {"sid": "FindLogGroups", "effect": "Allow", "actions": ["logs:DescribeLogGroups"], "resources": ["*"]},
    ]
