"""The account stack: API Gateway's CloudWatch role, once per account and region."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from lib.settings import read_settings
from tests.unit.synth import SynthesizedStack

# Every test here builds a stack of its own or imports the provider: the stack worker (testkit/stack_scheduling.py).
pytestmark = pytest.mark.stacks

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
    # The stack's own provider; the other (aliased) ones hold the backup copy vaults (test_backups.py).
    (provider,) = [each for each in stack.document["provider"]["aws"] if "alias" not in each]
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


def test_the_setting_waits_for_the_role_policy_and_is_reset_before_the_role_goes() -> None:
    stack, _, _ = synthesized()
    policy = stack.only("aws_iam_role_policy")
    account = stack.only("aws_api_gateway_account")

    # API Gateway assumes the role when the setting is made: the permissions must exist first; on
    # destroy the same edge removes the setting (reset to none) before the policy and the role.
    (policy_id,) = stack.resources("aws_iam_role_policy")
    assert policy["name"] == "write-api-gateway-logs"
    assert account["depends_on"] == [f"aws_iam_role_policy.{policy_id}"]
    assert account["reset_on_delete"] is True


def test_the_role_grants_the_managed_policys_actions_for_every_api_of_the_region() -> None:
    stack, _, _ = synthesized()
    document = stack.policy_document(stack.only("aws_iam_role_policy")["policy"])
    groups = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:*"
    # AmazonAPIGatewayPushToCloudWatchLogs v1, action for action (AWS Managed Policy reference);
    # "*" only for DescribeLogGroups, which takes no log-group resource.
    assert document["statement"] == [
        {
            "sid": "WriteLogsOfEveryApiInTheRegion",
            "effect": "Allow",
            "actions": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:GetLogEvents",
                "logs:FilterLogEvents",
            ],
            "resources": [groups, f"{groups}:log-stream:*"],
        },
        {"sid": "FindLogGroups", "effect": "Allow", "actions": ["logs:DescribeLogGroups"], "resources": ["*"]},
    ]


ADOPTED = "arn:aws:iam::123456789012:role/platform-team/apigw-logs"


def test_an_adopted_role_leaves_the_role_and_the_setting_to_their_owner() -> None:
    from cdktf import Testing

    from lib.app import build_app

    settings = read_settings({"AWS_REGION": REGION, "API_GATEWAY_CLOUDWATCH_ROLE_ARN": ADOPTED})
    _, account = build_app(settings, app=Testing.app()).node.children
    stack = SynthesizedStack(stack=account, text=Testing.synth(account))
    assert stack.resources("aws_iam_role") == {}
    assert stack.resources("aws_iam_role_policy") == {}
    assert stack.resources("aws_api_gateway_account") == {}
    assert stack.document["output"]["api_gateway_cloudwatch_role_arn"]["value"] == ADOPTED
    # X-Ray's setting stays the account stack's.
    assert list(stack.resources("aws_xray_encryption_config"))


def test_an_adopted_role_must_be_an_iam_role_arn() -> None:
    import pytest

    with pytest.raises(ValueError) as refused:
        read_settings({"API_GATEWAY_CLOUDWATCH_ROLE_ARN": "apigw-logs"})
    assert str(refused.value) == (
        "API_GATEWAY_CLOUDWATCH_ROLE_ARN must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got 'apigw-logs'"
    )


def _xray_key(stack: SynthesizedStack) -> dict[str, Any]:
    """The key the X-Ray alias names (the backup vaults have keys of their own)."""
    (alias,) = [a for a in stack.resources("aws_kms_alias").values() if a["name"] == "alias/payment-platform-xray"]
    (key,) = [
        k
        for k in stack.resources("aws_kms_key").values()
        if alias["target_key_id"] == stack.reference_of("aws_kms_key", k, "key_id")
    ]
    return key


def test_x_ray_encrypts_every_trace_of_the_region_with_the_accounts_own_key() -> None:
    stack, _, _ = synthesized()
    key = _xray_key(stack)
    key_arn = stack.reference_of("aws_kms_key", key, "arn")
    assert stack.only("aws_xray_encryption_config") == {"type": "KMS", "key_id": key_arn}
    assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
    assert stack.document["output"]["xray_key_arn"]["value"] == key_arn


def test_the_x_ray_key_is_usable_only_through_x_ray_in_this_account_and_region() -> None:
    from lib.components.keys import KEY_ADMIN_ACTIONS

    stack, _, _ = synthesized()
    policy = stack.policy_document(_xray_key(stack)["policy"])
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
