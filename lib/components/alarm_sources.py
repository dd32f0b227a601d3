"""What a component offers ``Monitoring``: the resources of its that are alarmed and watched.

Each component with something to watch implements ``Monitored.alarm_sources()``; Monitoring
takes the components and builds every alarm and the dashboard from their sources, so it knows
no component's attributes and no component knows the alarm thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Protocol

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

from lib.components.function import PaymentFunction


@dataclass(frozen=True)
class WatchedFunction:
    function: PaymentFunction
    # Errors the function raises on purpose (the workflow's declines and rejections, which its
    # state machine routes to Compensate) are business outcomes: on the dashboard, never alarmed.
    errors_are_outcomes: bool = False


@dataclass(frozen=True)
class WatchedStateMachine:
    # Its alarms are <name>-failed, <name>-timed-out and <name>-aborted.
    name: str
    state_machine: SfnStateMachine
    # True: one unfinished execution already needs a human; False: the config's threshold.
    alarm_on_first: bool
    on_dashboard: bool


@dataclass(frozen=True)
class WatchedDeadLetterQueue:
    alarm_name: str  # alarmed on its first message: each is an item that needs a human
    queue: SqsQueue


@dataclass(frozen=True)
class WatchedStreamConsumer:
    alarm_name: str  # alarmed when its oldest unhandled record is older than the config allows
    function: PaymentFunction


@dataclass(frozen=True)
class WatchedPaymentAge:
    # A Maximum-age metric a function publishes (Powertools, the platform's namespace and service
    # dimension), alarmed at or above threshold_seconds. The threshold is derived by the component
    # from timings the stack sets (an execution's timeout, a schedule), not tuned per environment.
    alarm_name: str
    metric_name: str
    threshold_seconds: int


@dataclass(frozen=True)
class WatchedQueueAge:
    alarm_name: str  # alarmed when its oldest message is older than the config allows
    queue: SqsQueue


@dataclass(frozen=True)
class WatchedTable:
    # Alarms <name>-reads-throttled and <name>-writes-throttled, and <name>-<index>-... per index:
    # a table's own metric (TableName alone) excludes its indexes'.
    name: str
    table: DynamodbTable
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchedGiveUps:
    """Where a stream mapping writes the batches it gives up on (an S3 on-failure destination)."""

    alarm_name: str  # alarmed on the first record written (S3 request metrics under filter_id)
    bucket: S3Bucket
    filter_id: str
    delivery_alarm_name: str  # alarmed when Lambda could not write one (the writer's metric)
    writer: PaymentFunction


@dataclass(frozen=True)
class WatchedApi:
    api_name: str
    stage_name: str

    @property
    def dimensions(self) -> dict[str, str]:
        """The stage's dimensions in the AWS/ApiGateway namespace."""
        return {"ApiName": self.api_name, "Stage": self.stage_name}


@dataclass(frozen=True)
class WatchedReplication:
    # S3 replication with metrics (RTC): alarmed when its ReplicationLatency (Maximum) reaches
    # threshold_seconds. The metric's dimensions are the source and destination bucket names and the rule.
    alarm_name: str
    source: S3Bucket
    destination: S3Bucket
    rule_id: str
    threshold_seconds: int


@dataclass(frozen=True)
class AlarmSources:
    functions: tuple[WatchedFunction, ...] = ()
    state_machines: tuple[WatchedStateMachine, ...] = ()
    dead_letter_queues: tuple[WatchedDeadLetterQueue, ...] = ()
    stream_consumers: tuple[WatchedStreamConsumer, ...] = ()
    apis: tuple[WatchedApi, ...] = ()
    queue_ages: tuple[WatchedQueueAge, ...] = ()
    tables: tuple[WatchedTable, ...] = ()
    give_ups: tuple[WatchedGiveUps, ...] = ()
    payment_ages: tuple[WatchedPaymentAge, ...] = ()
    replications: tuple[WatchedReplication, ...] = ()
    # Queues whose depth the dashboard shows (not alarmed unless also a dead-letter queue).
    queue_depths: tuple[SqsQueue, ...] = ()

    def __add__(self, other: AlarmSources) -> AlarmSources:
        return AlarmSources(
            **{field.name: getattr(self, field.name) + getattr(other, field.name) for field in fields(self)}
        )


class Monitored(Protocol):
    """A component Monitoring watches."""

    def alarm_sources(self) -> AlarmSources: ...


@dataclass(frozen=True)
class Watch:
    """Monitoring's inputs: the components it watches, and the topic their alarms go to."""

    components: Sequence[Monitored]
    alarm_topic: SnsTopic
