"""Alarm delivery on the emulator: a queue subscribed to the alarm topic hears an alarm change state.

CloudWatch never evaluates metrics in the emulator, so the demo does what an operator does to test
an alarm's wiring on AWS: ``SetAlarmState`` (localcloud runs the alarm's SNS actions as AWS does).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from testkit.traffic import PlatformClient


@dataclass(frozen=True)
class AlarmDelivery:
    alarm_name: str
    subject: str
    new_state: str
    reason: str


def subscribe_queue(client: PlatformClient, topic_output: str = "alarm_topic_arn") -> str:
    """A new queue subscribed to the stack's topic (as a subscriber endpoint of the config would be)."""
    sqs, sns = client.client("sqs"), client.client("sns")
    url = str(sqs.create_queue(QueueName=f"alarm-inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=client.outputs[topic_output], Protocol="sqs", Endpoint=arn)
    return url


def trip_alarm(client: PlatformClient, alarm_name: str, reason: str) -> str:
    """Set the stack's alarm ``alarm_name`` (one whose action is the stack's topic) to ALARM.

    By its exact name: a suffix would match several (payment-dlq-not-empty-<suffix> and
    batch-file-dlq-not-empty-<suffix>)."""
    cloudwatch = client.client("cloudwatch")
    alarms = cloudwatch.describe_alarms(ActionPrefix=client.outputs["alarm_topic_arn"])["MetricAlarms"]
    (alarm,) = [a for a in alarms if a["AlarmName"] == alarm_name]
    cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="ALARM", StateReason=reason)
    return str(alarm["AlarmName"])


def wait_for_alarm(client: PlatformClient, queue_url: str, alarm_name: str, timeout: float = 30) -> AlarmDelivery:
    sqs, deadline = client.client("sqs"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            envelope: dict[str, Any] = json.loads(message["Body"])
            alarm = json.loads(envelope["Message"])
            if alarm.get("AlarmName") == alarm_name:
                return AlarmDelivery(alarm_name, envelope["Subject"], alarm["NewStateValue"], alarm["NewStateReason"])
    raise TimeoutError(f"no notification for alarm {alarm_name} within {timeout}s")
