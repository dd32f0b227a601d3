"""Alarms to the alarm topic, the topic's subscribers, and one dashboard for the platform.

Built from what the components offer (``alarm_sources()``, lib/components/alarm_sources.py):
this module knows the thresholds and the dashboard's layout, not the components.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from functools import reduce
from operator import add
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, Watch, WatchedFunction
from lib.components.base import ConfiguredConstruct
from lib.components.resource_alarms import give_up_alarms, replication_alarms, throttle_alarms
from lib.config import AlarmConfig


class Monitoring(ConfiguredConstruct[AlarmConfig, Watch]):
    """Alarms (by alarm name) to the alarm topic, its ``subscriptions``, and the platform's dashboard."""

    def _build(self, inputs: Watch) -> None:
        self._alarm_actions = [inputs.alarm_topic.arn]
        sources: AlarmSources = reduce(add, (each.alarm_sources() for each in inputs.components), AlarmSources())
        # The dashboard lists functions in the contract's order, whichever component offers them.
        self._sources = replace(sources, functions=tuple(sorted(sources.functions, key=_contract_order)))
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self._build_function_alarms()
        self._build_api_alarms()
        self._build_state_machine_alarms()
        self._build_backlog_alarms()
        sources = self._sources
        for alarm in (
            *throttle_alarms(sources, self._settings),
            *give_up_alarms(sources),
            *replication_alarms(sources),
        ):
            self._alarm(
                *alarm[:5], statistic=alarm.statistic, comparison=alarm.comparison, description=alarm.description
            )
        self._build_payment_age_alarms()
        self.subscriptions: list[SnsTopicSubscription] = self._build_subscriptions(inputs.alarm_topic)
        self.dashboard: CloudwatchDashboard = self._build_dashboard()

    def _build_function_alarms(self) -> None:
        thresholds = self._settings
        for watched in self._sources.functions:
            function = watched.function
            dimensions = {"FunctionName": function.lambda_function.function_name}
            # A function's business outcomes are on the dashboard; its infrastructure failures
            # surface elsewhere (the workflow's as failed executions).
            if not watched.errors_are_outcomes:
                self._alarm(
                    f"{function.base_name}-errors",
                    "AWS/Lambda",
                    "Errors",
                    dimensions,
                    thresholds.lambda_error_threshold,
                )
            self._alarm(
                f"{function.base_name}-throttles",
                "AWS/Lambda",
                "Throttles",
                dimensions,
                thresholds.lambda_throttle_threshold,
            )

    def _build_api_alarms(self) -> None:
        thresholds = self._settings
        for api in self._sources.apis:
            dimensions = api.dimensions
            self._alarm("payments-api-5xx", "AWS/ApiGateway", "5XXError", dimensions, thresholds.api_5xx_threshold)
            self._alarm(
                "payments-api-p99-latency",
                "AWS/ApiGateway",
                "Latency",
                dimensions,
                thresholds.api_p99_latency_ms,
                extended_statistic="p99",
            )

    def _build_state_machine_alarms(self) -> None:
        """``<name>-failed``, ``-timed-out`` and ``-aborted``: executions that ended without finishing
        (retries exhausted, the execution's own timeout a Catch cannot see, or stopped by hand)."""
        for watched in self._sources.state_machines:
            threshold = 1 if watched.alarm_on_first else self._settings.state_machine_failed_threshold
            machine = {"StateMachineArn": watched.state_machine.arn}
            for metric, outcome in _UNFINISHED_EXECUTIONS:
                self._alarm(f"{watched.name}-{outcome}", "AWS/States", metric, machine, threshold)

    def _build_backlog_alarms(self) -> None:
        """Work left waiting, by its largest (Maximum) value: a message in a dead-letter queue (each
        is an item that needs a human), or a stream record older than the config allows."""
        sources, settings = self._sources, self._settings
        backlogs = (
            [
                (
                    watched.alarm_name,
                    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": watched.queue.name}),
                    0,
                    "GreaterThanThreshold",
                )
                for watched in sources.dead_letter_queues
            ]
            + [
                (
                    watched.alarm_name,
                    ("AWS/Lambda", "IteratorAge", {"FunctionName": watched.function.lambda_function.function_name}),
                    settings.unstarted_payment_age_seconds * 1000,
                    "GreaterThanOrEqualToThreshold",
                )
                for watched in sources.stream_consumers
            ]
            + [
                # SQS deletes a message at the end of its retention without a trace: a queue whose
                # consumer stopped (mapping disabled, every batch failing) alarms well before.
                (
                    watched.alarm_name,
                    ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": watched.queue.name}),
                    settings.queue_oldest_message_age_seconds,
                    "GreaterThanOrEqualToThreshold",
                )
                for watched in sources.queue_ages
            ]
        )
        for name, (namespace, metric, dimensions), threshold, comparison in backlogs:
            self._alarm(name, namespace, metric, dimensions, threshold, statistic="Maximum", comparison=comparison)

    def _build_payment_age_alarms(self) -> None:
        """A payment non-final for longer than its recovery should take: the oldest one's age, as
        its function publishes it (Powertools: the platform's namespace, the service dimension)."""
        context = self._context
        for watched in self._sources.payment_ages:
            self._alarm(
                watched.alarm_name,
                context.metrics_namespace,
                watched.metric_name,
                {"service": context.service_name},
                watched.threshold_seconds,
                statistic="Maximum",
            )

    def _build_subscriptions(self, alarm_topic: SnsTopic) -> list[SnsTopicSubscription]:
        return [
            SnsTopicSubscription(
                self,
                # Named by the endpoint, not its position: reordering the list replaces nothing.
                f"alarm_subscriber_{hashlib.sha256(f'{s.protocol}:{s.endpoint}'.encode()).hexdigest()[:12]}",
                topic_arn=alarm_topic.arn,
                protocol=s.protocol,
                endpoint=s.endpoint,
            )
            for s in self._settings.subscribers
        ]

    def _alarm(
        self,
        base_name: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        threshold: int,
        *,
        statistic: str | None = "Sum",
        extended_statistic: str | None = None,
        comparison: str = "GreaterThanOrEqualToThreshold",
        description: str | None = None,
    ) -> None:
        name = self._context.namer(base_name)
        self.alarms[name] = CloudwatchMetricAlarm(
            self,
            base_name.replace("-", "_"),
            alarm_name=name,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=None if extended_statistic else statistic,
            extended_statistic=extended_statistic,
            period=self._settings.period_seconds,
            evaluation_periods=self._settings.evaluation_periods,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data="notBreaching",
            alarm_description=description,
            alarm_actions=self._alarm_actions,
            ok_actions=self._alarm_actions,
        )

    def _build_dashboard(self) -> CloudwatchDashboard:
        return CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self._context.namer.account_wide("payment-platform"),
            dashboard_body=Fn.jsonencode(self._dashboard_body()),
        )

    def _dashboard_body(self) -> dict[str, Any]:
        context, sources = self._context, self._sources

        def widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
            properties = {"title": title, "region": context.region, "stat": stat, "period": 300, "metrics": metrics}
            return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties}

        names = [watched.function.lambda_function.function_name for watched in sources.functions]
        api_dims = [item for api in sources.apis for pair in api.dimensions.items() for item in pair]
        machines = [watched.state_machine.arn for watched in sources.state_machines if watched.on_dashboard]
        return {
            "widgets": [
                widget(
                    "API requests and errors",
                    [["AWS/ApiGateway", m, *api_dims] for m in ("Count", "4XXError", "5XXError")],
                    0,
                    0,
                ),
                widget("API latency p99", [["AWS/ApiGateway", "Latency", *api_dims]], 12, 0, stat="p99"),
                widget("Lambda errors", [["AWS/Lambda", "Errors", "FunctionName", n] for n in names], 0, 6),
                widget("Lambda throttles", [["AWS/Lambda", "Throttles", "FunctionName", n] for n in names], 12, 6),
                widget(
                    "Workflow executions",
                    [
                        ["AWS/States", m, "StateMachineArn", arn]
                        for arn in machines
                        for m in ("ExecutionsStarted", "ExecutionsSucceeded", *(m for m, _ in _UNFINISHED_EXECUTIONS))
                    ],
                    0,
                    12,
                ),
                # Business outcomes (emitted by the workflow function): watched, never alarmed.
                widget(
                    "Payment outcomes",
                    [
                        [context.metrics_namespace, name, "service", context.service_name]
                        for name in (contract.PAYMENT_SETTLED_METRIC, *contract.BUSINESS_ERRORS)
                    ],
                    0,
                    18,
                ),
                widget(
                    "Queue depth",
                    [
                        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue.name]
                        for queue in sources.queue_depths
                    ],
                    12,
                    12,
                    stat="Maximum",
                ),
            ]
        }


_UNFINISHED_EXECUTIONS = (
    ("ExecutionsFailed", "failed"),
    ("ExecutionsTimedOut", "timed-out"),
    ("ExecutionsAborted", "aborted"),
)


def _contract_order(watched: WatchedFunction) -> int:
    return contract.FUNCTION_NAMES.index(watched.function.contract_name)
