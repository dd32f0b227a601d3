"""Queue, dead-letter queue and topics: encrypted, with redrive from config."""

from __future__ import annotations

import json

import pytest

from lib.config import config_for
from tests.unit.synth import SynthesizedStack, key_arn, platform_key


def test_queue_redrives_to_dlq_after_configured_receives(env_stack: SynthesizedStack) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    queue = env_stack.named("aws_sqs_queue", "name", f"payment-processing-{config.environment}")
    dlq = env_stack.named("aws_sqs_queue", "name", f"payment-processing-dlq-{config.environment}")
    redrive = queue["redrive_policy"]
    assert redrive == (
        '${jsonencode({"deadLetterTargetArn" = '
        + env_stack.reference_of("aws_sqs_queue", dlq, "arn").removeprefix("${").removesuffix("}")
        + f', "maxReceiveCount" = {config.queues.max_receive_count}}})}}'
    )
    assert queue["visibility_timeout_seconds"] == config.queues.visibility_timeout_seconds
    assert dlq["message_retention_seconds"] == 1_209_600


@pytest.mark.parametrize("name", ["payment-processing-dev", "payment-processing-dlq-dev"])
def test_queues_are_encrypted_with_the_cmk(dev: SynthesizedStack, name: str) -> None:
    assert dev.named("aws_sqs_queue", "name", name)["kms_master_key_id"] == key_arn(dev)


@pytest.mark.parametrize("name", ["payment-status-dev", "payment-alarms-dev"])
def test_topics_are_encrypted_with_the_cmk(dev: SynthesizedStack, name: str) -> None:
    assert dev.named("aws_sns_topic", "name", name)["kms_master_key_id"] == key_arn(dev)


def test_key_rotates_and_lets_cloudwatch_logs_use_it(dev: SynthesizedStack) -> None:
    key = platform_key(dev)
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 7
    statements = {s["sid"]: s for s in dev.policy_document(key["policy"])["statement"]}
    logs = statements["CloudWatchLogsEncryptsPlatformLogGroups"]
    assert logs["principals"] == [{"type": "Service", "identifiers": ["logs.us-east-1.amazonaws.com"]}]
    assert "kms:GenerateDataKey*" in logs["actions"]
    assert "kms:*" not in json.dumps(statements)
    assert dev.only("aws_kms_alias")["name"] == "alias/payment-platform-dev"
