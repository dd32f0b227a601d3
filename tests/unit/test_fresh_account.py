"""What a deploy to a fresh account needs from the environment stack (issue #13)."""

from __future__ import annotations

import pytest

from lib.config import AlarmConfig, AlarmSubscriber, config_for
from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_environ, read_settings
from tests.unit.synth import SynthesizedStack, key_arn


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_resources_that_use_their_role_at_create_time_wait_for_its_policy(stack: SynthesizedStack) -> None:
    policies = stack.resources("aws_iam_role_policy")
    functions = stack.resources("aws_lambda_function")

    def policy_of(role_reference: str) -> str:  # "${aws_iam_role.<id>.arn}" -> its inline policy's address
        role = role_reference.split(".")[1]
        (policy_id,) = [pid for pid, p in policies.items() if p["role"] == f"${{aws_iam_role.{role}.id}}"]
        return f"aws_iam_role_policy.{policy_id}"

    for function in functions.values():
        assert policy_of(function["role"]) in function["depends_on"], function["function_name"]

    mappings = stack.resources("aws_lambda_event_source_mapping").values()
    # The queue's (queue_consumer), the payments stream's (workflow_starter), the audit stream's
    # (event_writer), the events stream's (webhook_fanout), the delivery queue's (webhook_delivery).
    assert len(mappings) == 5
    for mapping in mappings:
        alias_id = mapping["function_name"].split(".")[1]  # ${aws_lambda_alias.<id>.arn}: the live alias
        alias = stack.resources("aws_lambda_alias")[alias_id]
        function_id = alias["function_name"].split(".")[1]  # ${aws_lambda_function.<id>.function_name}
        assert mapping["depends_on"] == [policy_of(functions[function_id]["role"])], mapping["event_source_arn"]

    machines = stack.resources("aws_sfn_state_machine").values()
    assert len(machines) == 2  # the payment workflow and the per-file batch workflow
    for machine in machines:
        assert machine["depends_on"] == [policy_of(machine["role_arn"])], machine["name"]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_execution_logs_go_to_a_declared_group_with_the_cmk_and_retention(
    stack: SynthesizedStack, environment: str
) -> None:
    (api_id,) = stack.resources("aws_api_gateway_rest_api")
    stage = stack.only("aws_api_gateway_stage")
    group = stack.named(
        "aws_cloudwatch_log_group",
        "name",
        f"API-Gateway-Execution-Logs_${{aws_api_gateway_rest_api.{api_id}.id}}/{stage['stage_name']}",
    )

    assert group["kms_key_id"] == key_arn(stack)
    assert group["retention_in_days"] == config_for(environment).log_retention_days
    settings = stack.only("aws_api_gateway_method_settings")
    assert settings["settings"]["logging_level"] == "INFO"
    (group_id,) = [gid for gid, g in stack.resources("aws_cloudwatch_log_group").items() if g is group]
    assert settings["depends_on"] == [f"aws_cloudwatch_log_group.{group_id}"]


def test_alarm_subscribers_per_environment(stacks: dict[str, SynthesizedStack]) -> None:
    def subscriptions(environment: str) -> list[tuple[str, str]]:
        stack = stacks[environment]
        (topic_id,) = [t for t, topic in stack.resources("aws_sns_topic").items() if "payment-alarms" in topic["name"]]
        return sorted(
            (s["protocol"], s["endpoint"])
            for s in stack.resources("aws_sns_topic_subscription").values()
            if s["topic_arn"] == f"${{aws_sns_topic.{topic_id}.arn}}"
        )

    # Every environment pages whom its deploy names (ALARM_SUBSCRIBERS), nobody from the repository.
    named = sorted(("https" if e.startswith("https://") else "email", e) for e in SYNTH_ONLY_SUBSCRIBERS.split())
    for environment in ("dev", "staging", "prod"):
        assert subscriptions(environment) == named


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_staging_and_prod_refuse_to_synthesize_without_a_subscriber(environment: str) -> None:
    with pytest.raises(ValueError) as refused:
        read_settings({"ENVIRONMENT": environment})
    assert str(refused.value) == (
        f"ALARM_SUBSCRIBERS must name at least one alarm subscriber for {environment} "
        "(alarms.subscribers_required), got none"
    )


def test_dev_may_page_nobody() -> None:
    assert read_settings({"ENVIRONMENT": "dev"}).config.alarms.subscribers == ()


@pytest.mark.parametrize(
    ("endpoint", "domain"),
    [
        ("payments-oncall@example.com", "example.com"),
        ("oncall@example.org", "example.org"),
        ("oncall@example.net", "example.net"),
        ("oncall@example.co.uk", "example.co.uk"),
        ("https://pager.example.com/hooks/payments", "pager.example.com"),
        ("https://localhost:8443/alarms", "localhost"),
        ("oncall@team.localhost", "team.localhost"),
        ("oncall@payments.test", "payments.test"),
        ("oncall@pager.invalid", "pager.invalid"),
    ],
)
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_placeholder_subscribers_are_refused_exactly(environment: str, endpoint: str, domain: str) -> None:
    with pytest.raises(ValueError) as refused:
        read_settings({"ENVIRONMENT": environment, "ALARM_SUBSCRIBERS": f"oncall@payments.internal {endpoint}"})
    assert str(refused.value) == (
        f"alarms.subscribers endpoint {endpoint!r} is a placeholder ({domain} is reserved for examples and "
        "reaches nobody): set ALARM_SUBSCRIBERS to a real address"
    )


def test_subscribers_are_read_from_the_deploy_in_each_form() -> None:
    subscribers = (
        "oncall@acme-payments.com, https://events.pagerduty.com/integration/abc/enqueue "
        "arn:aws:sqs:us-east-1:123456789012:payments-alerts"
    )
    settings = read_settings(preset_environ("prod", subscribers))
    assert [(s.protocol, s.endpoint) for s in settings.config.alarms.subscribers] == [
        ("email", "oncall@acme-payments.com"),
        ("https", "https://events.pagerduty.com/integration/abc/enqueue"),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:payments-alerts"),
    ]


@pytest.mark.parametrize(
    ("protocol", "endpoint", "message"),
    [
        ("sms", "+15550100", "alarms.subscribers protocol must be one of email, https, sqs, got 'sms'"),
        ("email", "oncall", "alarms.subscribers email endpoint must be an email address, got 'oncall'"),
        ("https", "http://pager.example.com", "alarms.subscribers https endpoint must be an https:// URL, got "
         "'http://pager.example.com'"),
        ("sqs", "arn:aws:sqs:us-east-1:123456789012:alerts.fifo", "alarms.subscribers sqs endpoint must be a standard "
         "(not .fifo) SQS queue ARN, got 'arn:aws:sqs:us-east-1:123456789012:alerts.fifo'"),
        ("sqs", "https://sqs.us-east-1.amazonaws.com/123456789012/alerts", "alarms.subscribers sqs endpoint must be "
         "a standard (not .fifo) SQS queue ARN, got 'https://sqs.us-east-1.amazonaws.com/123456789012/alerts'"),
    ],
)  # fmt: skip
def test_bad_subscribers_are_refused_with_the_field_named(protocol: str, endpoint: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        AlarmSubscriber(protocol, endpoint)
    assert str(refused.value) == message


def test_subscribers_accept_the_three_forms_once_each() -> None:
    queue = AlarmSubscriber("sqs", "arn:aws:sqs:eu-west-1:123456789012:payments-alerts")
    email = AlarmSubscriber("email", "oncall@acme-payments.com")
    hook = AlarmSubscriber("https", "https://hooks.acme-payments.com:8443/alarms?team=payments")
    AlarmConfig(1, 60, 1, 1, 1, 1, 1, subscribers=(queue, email, hook))

    with pytest.raises(ValueError) as repeated:
        AlarmConfig(1, 60, 1, 1, 1, 1, 1, subscribers=(email, email))
    assert str(repeated.value) == (
        "alarms.subscribers must not repeat an endpoint, got "
        "[('email', 'oncall@acme-payments.com'), ('email', 'oncall@acme-payments.com')]"
    )
