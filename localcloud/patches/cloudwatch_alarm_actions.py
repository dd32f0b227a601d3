"""``SetAlarmState`` runs the alarm's SNS actions, as AWS does; moto 5.2.5 only records the state.

AWS (SetAlarmState API reference): "When the updated state differs from the previous value, the
action configured for the appropriate state is invoked. For example, if your alarm is configured
to send an Amazon SNS message when an alarm is triggered, temporarily changing the alarm state to
ALARM sends an SNS message." moto's ``CloudWatchBackend.set_alarm_state`` changes the state and
nothing else, so an alarm topic's subscribers never hear anything.

The patch publishes the notification AWS publishes: subject ``ALARM: "<name>" in <region name>``,
message the JSON document with ``AlarmName``, ``AlarmDescription``, ``AWSAccountId``,
``NewStateValue``, ``NewStateReason``, ``StateChangeTime``, ``Region``, ``AlarmArn``,
``OldStateValue`` and ``Trigger`` (shape from real notifications, e.g. aws/aws-lambda-go
events/testdata/cloudwatch-alarm-sns-payload-single-metric.json). Only SNS actions are run.

A topic encrypted with a KMS key gets the message only if the key policy lets
``cloudwatch.amazonaws.com`` use the key (``kms:Decrypt`` and ``kms:GenerateDataKey*``): AWS
documents that alarms cannot publish to a topic encrypted with a key CloudWatch may not use, e.g.
the AWS-managed ``alias/aws/sns`` key. Otherwise the action fails (logged to server.log), as
on AWS where only the alarm history shows it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
# The names AWS prints in notifications (Region field and subject).
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
}
ACTIONS_FOR_STATE = {"ALARM": "alarm_actions", "OK": "ok_actions", "INSUFFICIENT_DATA": "insufficient_data_actions"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cloudwatch_may_use_key(key_policy: str) -> bool:
    """True if a statement allows CloudWatch to decrypt and generate data keys with the key."""
    granted: set[str] = set()
    for statement in _as_list(json.loads(key_policy).get("Statement")):
        principal = statement.get("Principal") or {}
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and CLOUDWATCH_PRINCIPAL in services:
            granted.update(_as_list(statement.get("Action")))
    decrypt = bool({"kms:Decrypt", "kms:*"} & granted)
    data_key = bool({"kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:*"} & granted)
    return decrypt and data_key


def notification(alarm: Any, account_id: str, region: str, old_state: str) -> dict[str, Any]:
    region_name = REGION_NAMES.get(region, region)
    statistic = alarm.extended_statistic or (alarm.statistic or "").upper()
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp.isoformat(),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": alarm.state_updated_timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        "Region": region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": statistic,
            "Unit": alarm.unit,
            "Dimensions": [{"value": dimension.value, "name": dimension.name} for dimension in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        },
    }


def _publish(backend: Any, alarm: Any, topic_arn: str, old_state: str) -> None:
    from moto.kms.models import kms_backends
    from moto.sns.models import sns_backends

    account_id, region = topic_arn.split(":")[4], topic_arn.split(":")[3]
    topic = sns_backends[account_id][region].get_topic(topic_arn)
    key_id = getattr(topic, "kms_master_key_id", None)
    if key_id:
        try:
            key = kms_backends[account_id][region].describe_key(key_id)
            allowed = cloudwatch_may_use_key(key.policy)
        except Exception:  # an alias of an AWS-managed key, or a key that is gone
            allowed = False
        if not allowed:
            print(
                f"localcloud: alarm {alarm.name}: failed to execute action {topic_arn}: "
                f"{CLOUDWATCH_PRINCIPAL} may not use key {key_id}",
                file=sys.stderr,
                flush=True,
            )
            return
    message = notification(alarm, backend.account_id, backend.region_name, old_state)
    subject = f'{alarm.state_value}: "{alarm.name}" in {message["Region"]}'[:100]
    topic.publish(json.dumps(message), subject=subject)


def apply() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.set_alarm_state

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        alarm = self.alarms.get(alarm_name)
        old_state = alarm.state_value if alarm is not None else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is None or old_state == state_value or not alarm.actions_enabled:
            return
        for action in _as_list(getattr(alarm, ACTIONS_FOR_STATE[state_value])):
            if str(action).startswith("arn:aws:sns:"):
                _publish(self, alarm, str(action), str(old_state))

    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]
