"""EventBridge Scheduler in the emulator: a rate() schedule invokes its Lambda target once per period.

moto stores schedules and never runs them; localcloud.patches.scheduler_targets does (evidence in
localcloud/README.md). The period logic is tested on its own; one real minute shows it end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localcloud.patches import scheduler_targets
from localcloud.patches.scheduler_targets import ScheduleRunner, period_seconds
from tests.localcloud.conftest import item, wait_for

COUNT_INVOCATIONS = """
import os, boto3

def handler(event, context):
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"pk": {"S": "invocations"}},
        UpdateExpression="ADD invocations :one SET last_event = :event",
        ExpressionAttributeValues={":one": {"N": "1"}, ":event": {"S": repr(event)}},
    )
"""
TARGET = "arn:aws:lambda:us-east-1:123456789012:function:sweeper"


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7_200), ("cron(0 * * * ? *)", None)],
)
def test_the_period_of_a_rate_expression(expression: str, seconds: int | None) -> None:
    assert period_seconds(expression) == seconds


@pytest.fixture
def in_process_scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[str]]]:
    from moto import mock_aws

    invoked: list[str] = []
    monkeypatch.setattr(scheduler_targets, "_invoke", lambda schedule, target: invoked.append(schedule.name))
    with mock_aws():
        yield boto3.client("scheduler", region_name="us-east-1"), invoked


def _create(scheduler: Any, name: str, expression: str, state: str = "ENABLED") -> float:
    from moto.scheduler.models import scheduler_backends

    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": TARGET, "RoleArn": "arn:aws:iam::123456789012:role/schedule"},
        State=state,
    )
    schedule = scheduler_backends["123456789012"]["us-east-1"].get_schedule(None, name)
    return float(schedule.last_modified_date)


def test_a_rate_schedule_fires_once_per_period_from_its_creation(in_process_scheduler: Any) -> None:
    scheduler, invoked = in_process_scheduler
    created = _create(scheduler, "every-5", "rate(5 minutes)")
    _create(scheduler, "disabled", "rate(1 minute)", state="DISABLED")
    runner = ScheduleRunner()

    assert runner.tick(created + 299) == []
    assert len(runner.tick(created + 300)) == 1
    assert runner.tick(created + 301) == []
    # After a long pause (a suspended laptop) it fires once, not once per missed period.
    assert len(runner.tick(created + 1_900)) == 1
    assert runner.tick(created + 1_901) == []
    assert invoked == ["every-5", "every-5"]


def test_the_emulator_invokes_a_rate_schedules_lambda_target(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    arn = create_function({"handler.py": COUNT_INVOCATIONS}, environment={"TABLE_NAME": table})
    scheduler = aws("scheduler")
    target = {"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/schedule", "Input": json.dumps({"sweep": 1})}
    scheduler.create_schedule(
        Name=f"every-minute-{unique}",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    scheduler.create_schedule(
        Name=f"off-{unique}",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        State="DISABLED",
    )

    assert item(aws, table, "invocations") is None  # nothing before the first period
    stored = wait_for(lambda: item(aws, table, "invocations"), timeout=90, interval=1)
    assert stored["invocations"]["N"] == "1"  # the enabled one only
    assert stored["last_event"]["S"] == repr({"sweep": 1})
    scheduler.delete_schedule(Name=f"every-minute-{unique}")
