"""Alarms on what components' resources report by themselves: throttling and give-ups.

``Monitoring`` builds each of these like its other alarms (topic, period, names); this module
says which metric of which watched resource, at which threshold, means someone must act, and
where the runbook (docs/operations.md) says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from lib.components.alarm_sources import AlarmSources
from lib.config import AlarmConfig

RUNBOOK = "Runbook: docs/operations.md, "


class ResourceAlarm(NamedTuple):
    base_name: str  # the alarm's name before the environment suffix
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    threshold: int
    comparison: str = "GreaterThanOrEqualToThreshold"
    description: str | None = None
    statistic: str = "Sum"


def throttle_alarms(sources: AlarmSources, settings: AlarmConfig) -> list[ResourceAlarm]:
    """Throttling that retries only hide until work times out or piles up: each table's and
    index's throttled reads and writes (on demand too: a hot partition, the account's limits; a
    table's own metric, ``TableName`` alone, excludes its indexes'), each state machine's throttled
    transitions (``ExecutionThrottled``), and the account's ``StartExecution`` and state-transition
    token buckets (``ThrottledEvents`` by ``APIName`` / ``ServiceMetric``; Step Functions developer
    guide, "Step Functions metrics for CloudWatch")."""
    alarms = []
    for watched in sources.tables:
        scopes = [(watched.name, {"TableName": watched.table.name})] + [
            (f"{watched.name}-{index}", {"TableName": watched.table.name, "GlobalSecondaryIndexName": index})
            for index in watched.indexes
        ]
        for name, dimensions in scopes:
            for operation, metric in (("reads", "ReadThrottleEvents"), ("writes", "WriteThrottleEvents")):
                alarms.append(
                    ResourceAlarm(
                        f"{name}-{operation}-throttled",
                        "AWS/DynamoDB",
                        metric,
                        dimensions,
                        settings.dynamodb_throttle_threshold,
                        description=RUNBOOK + "a DynamoDB table or index throttled",
                    )
                )
    threshold = settings.step_functions_throttle_threshold
    description = RUNBOOK + "Step Functions throttled"
    for machine in sources.state_machines:
        arn = {"StateMachineArn": machine.state_machine.arn}
        alarms.append(
            ResourceAlarm(
                f"{machine.name}-throttled", "AWS/States", "ExecutionThrottled", arn, threshold, description=description
            )
        )
    if sources.state_machines:  # account-wide: a stack's alarm also sees its neighbours' throttles
        for name, dimensions in (
            ("step-functions-start-execution-throttled", {"APIName": "StartExecution"}),
            ("step-functions-state-transitions-throttled", {"ServiceMetric": "StateTransition"}),
        ):
            alarms.append(
                ResourceAlarm(name, "AWS/States", "ThrottledEvents", dimensions, threshold, description=description)
            )
    return alarms


def give_up_alarms(sources: AlarmSources) -> list[ResourceAlarm]:
    """A stream batch given up (its record written to the bucket: each is a payment accepted and
    never started), and a give-up Lambda could not write (``DestinationDeliveryFailures``)."""
    alarms = []
    for watched in sources.give_ups:
        alarms += [
            ResourceAlarm(
                watched.alarm_name,
                "AWS/S3",
                "PutRequests",
                {"BucketName": watched.bucket.bucket, "FilterId": watched.filter_id},
                0,
                "GreaterThanThreshold",
                RUNBOOK + "a workflow start given up",
            ),
            ResourceAlarm(
                watched.delivery_alarm_name,
                "AWS/Lambda",
                "DestinationDeliveryFailures",
                {"FunctionName": watched.writer.lambda_function.function_name},
                0,
                "GreaterThanThreshold",
                RUNBOOK + "a give-up record not delivered",
            ),
        ]
    return alarms


def replication_alarms(sources: AlarmSources) -> list[ResourceAlarm]:
    """Objects not yet in the DR region's copy past S3 RTC's 15 minutes: the copy the DR site starts
    from is behind, so the RPO docs/disaster-recovery.md states no longer holds. ``ReplicationLatency``
    (S3 user guide, "Amazon S3 CloudWatch replication metrics": seconds by which the destination is
    behind the source, dimensions ``SourceBucket``, ``DestinationBucket``, ``RuleId``) is published in
    the source bucket's region only with replication metrics on, as the rule has them with RTC."""
    return [
        ResourceAlarm(
            watched.alarm_name,
            "AWS/S3",
            "ReplicationLatency",
            {
                "SourceBucket": watched.source.bucket,
                "DestinationBucket": watched.destination.bucket,
                "RuleId": watched.rule_id,
            },
            watched.threshold_seconds,
            description=RUNBOOK + "the DR copy of the batch bucket is behind",
            statistic="Maximum",
        )
        for watched in sources.replications
    ]
