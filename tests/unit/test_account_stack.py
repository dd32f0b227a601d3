"""The account stack: API Gateway's CloudWatch role, once per account and region."""

from __future__ import annotations

from functools import cache
from typing import Any

from lib.settings import read_settings
from tests.unit.synth import SynthesizedStack

REGION = "eu-west-1"
ACCOUNT_ID = "${data.aws_caller_identity.account.account_id}"
# Every ARN is built in the provider region's partition (aws, aws-us-gov, aws-cn).
PARTITION = "${data.aws_partition.partition.partition}"


@cache
def synthesized() -> tuple[SynthesizedStack, Any, Any]:
    """TapAccount and the environment stack that depends on it, with S3 state."""
    from cdktf import Testing

    from lib.account_stack import AccountStack
    from lib.app import build_app
    from lib.tap_stack import TapStack

    settings = read_settings({"AWS_REGION": REGION, "TERRAFORM_STATE_BUCKET": "team-state"})
    # The app tap.py synthesizes: the environment stack and TapAccount, nothing else.
    stacks = build_app(settings, app=Testing.app()).node.children
    assert [type(stack) for stack in stacks] == [TapStack, AccountStack]
    environment, account = stacks
    return SynthesizedStack(stack=account, text=Testing.synth(account)), account, environment


def test_the_environment_stack_depends_on_the_account_stack() -> None:
    _, account, environment = synthesized()
    assert account.node.id == "TapAccount"
    assert [stack.node.id for stack in environment.dependencies] == ["TapAccount"]


def test_one_state_per_account_and_region_and_no_environment_tags() -> None:
    stack, _, _ = synthesized()
    assert stack.document["terraform"]["backend"]["s3"] == {
        "bucket": "team-state",
        "key": f"account/{REGION}/TapAccount.tfstate",
        "region": REGION,
        "encrypt": True,
        "use_lockfile": True,
    }
    (provider,) = stack.document["provider"]["aws"]
    assert provider["region"] == REGION
    assert provider["default_tags"] == [{"tags": {"Project": "payment-platform", "ManagedBy": "cdktf"}}]


def test_the_account_setting_points_at_a_role_api_gateway_can_assume() -> None:
    stack, _, _ = synthesized()
    role = stack.only("aws_iam_role")
    account = stack.only("aws_api_gateway_account")

    assert role["name"] == f"payment-platform-apigw-cloudwatch-{REGION}"
    assert account["cloudwatch_role_arn"] == stack.reference_of("aws_iam_role", role, "arn")
    trust = stack.policy_document(role["assume_role_policy"])
    assert trust["statement"] == [
        {
            "actions": ["sts:AssumeRole"],
            "effect": "Allow",
            "principals": [{"identifiers": ["apigateway.amazonaws.com"], "type": "Service"}],
        }
    ]
    assert stack.document["output"]["api_gateway_cloudwatch_role_arn"]["value"] == stack.reference_of(
        "aws_iam_role", role, "arn"
    )


def test_the_setting_waits_for_the_role_policy_and_is_kept_on_destroy() -> None:
    stack, _, _ = synthesized()
    policy = stack.only("aws_iam_role_policy")
    account = stack.only("aws_api_gateway_account")

    # API Gateway assumes the role when the setting is made: the permissions must exist first.
    (policy_id,) = stack.resources("aws_iam_role_policy")
    assert policy["name"] == "write-api-gateway-logs"
    assert account["depends_on"] == [f"aws_iam_role_policy.{policy_id}"]
    assert account["reset_on_delete"] is False


def test_the_role_writes_only_api_gateway_log_groups() -> None:
    stack, _, _ = synthesized()
    document = stack.policy_document(stack.only("aws_iam_role_policy")["policy"])
    groups = [
        f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:API-Gateway-Execution-Logs_*",
        f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/apigateway/*",
    ]
    assert document["statement"] == [
        {
            "sid": "WriteApiGatewayLogs",
            "effect": "Allow",
            "actions": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "resources": [*groups, *(f"{group}:*" for group in groups)],
        },
        {"sid": "FindLogGroups", "effect": "Allow", "actions": ["logs:DescribeLogGroups"], "resources": ["*"]},
    ]


def test_x_ray_encrypts_every_trace_of_the_region_with_the_accounts_own_key() -> None:
    stack, _, _ = synthesized()
    key = stack.only("aws_kms_key")
    key_arn = stack.reference_of("aws_kms_key", key, "arn")
    assert stack.only("aws_xray_encryption_config") == {"type": "KMS", "key_id": key_arn}
    assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
    assert stack.only("aws_kms_alias")["name"] == "alias/payment-platform-xray"
    assert stack.document["output"]["xray_key_arn"]["value"] == key_arn


def test_the_x_ray_key_is_usable_only_through_x_ray_in_this_account_and_region() -> None:
    from lib.components.keys import KEY_ADMIN_ACTIONS

    stack, _, _ = synthesized()
    policy = stack.policy_document(stack.only("aws_kms_key")["policy"])
    assert policy["statement"] == [
        {
            "sid": "AccountAdministers",
            "effect": "Allow",
            "actions": KEY_ADMIN_ACTIONS,
            "resources": ["*"],
            "principals": [{"type": "AWS", "identifiers": [f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"]}],
        },
        {
            # What AWS writes for X-Ray's own managed key (aws/xray): anyone of the account, via X-Ray only.
            "sid": "UseThroughXRayInThisAccount",
            "effect": "Allow",
            "actions": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "resources": ["*"],
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "condition": [
                {"test": "StringEquals", "variable": "kms:CallerAccount", "values": [ACCOUNT_ID]},
                {"test": "StringEquals", "variable": "kms:ViaService", "values": [f"xray.{REGION}.amazonaws.com"]},
            ],
        },
    ]
