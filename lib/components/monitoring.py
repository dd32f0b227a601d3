"""Alarms to the alarm topic, the topic's subscribers, and one dashboard for the platform."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct
from payment_core import contract

from lib.components.alarms import AlarmSource, AlarmSpec, step_functions_throttle_specs
from lib.components.api import PaymentsApi
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.ingestion import BatchIngestion
from lib.components.queues import Queues
from lib.config import AlarmConfig


class Monitoring(Construct):
    """Alarms (by alarm name) to the alarm topic, its ``subscriptions``, and the platform's dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        settings: AlarmConfig,
        functions: Sequence[PaymentFunction],
        queues: Queues,
        api: PaymentsApi,
        state_machine: SfnStateMachine,
        business_error_functions: Sequence[PaymentFunction],
        workflow_starter: PaymentFunction,
        batch_files: BatchIngestion,
        alarm_sources: Sequence[AlarmSource] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._namer = context.namer
        self._alarm_actions = [queues.alarm_topic.arn]
        self._metrics_namespace = context.common_environment[contract.POWERTOOLS_METRICS_NAMESPACE]
        self._service = context.common_environment[contract.POWERTOOLS_SERVICE_NAME]
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        api_dimensions = {"ApiName": api.rest_api.name, "Stage": api.stage.stage_name}
        self._build_function_alarms(functions, business_error_functions)
        self._build_platform_alarms(queues, api_dimensions, state_machine)
        self._build_stalled_payment_alarms(state_machine, workflow_starter)
        self._build_batch_file_alarms(batch_files)
        throttles = step_functions_throttle_specs(
            {"payment-workflow": state_machine, "batch-file": batch_files.file_state_machine},
            settings.step_functions_throttle_threshold,
        )
        for spec in [*throttles, *(spec for source in alarm_sources for spec in source.alarm_specs)]:
            self._alarm_from(spec)
        self.subscriptions: list[SnsTopicSubscription] = [
            SnsTopicSubscription(
                self,
                # Named by the endpoint, not its position: reordering the list replaces nothing.
                f"alarm_subscriber_{hashlib.sha256(f'{s.protocol}:{s.endpoint}'.encode()).hexdigest()[:12]}",
                topic_arn=queues.alarm_topic.arn,
                protocol=s.protocol,
                endpoint=s.endpoint,
            )
            for s in settings.subscribers
        ]
        self.dashboard: CloudwatchDashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=context.namer("payment-platform"),
            dashboard_body=Fn.jsonencode(
                self._dashboard_body(context.region, functions, queues, api_dimensions, state_machine)
            ),
        )

    def _build_function_alarms(
        self, functions: Sequence[PaymentFunction], business_error_functions: Sequence[PaymentFunction]
    ) -> None:
        namer, thresholds = self._namer, self._settings
        for function in functions:
            dimensions = {"FunctionName": function.lambda_function.function_name}
            # The workflow function raises declines and rejections on purpose (the state machine
            # routes them to Compensate): its Errors are business outcomes, on the dashboard;
            # its infrastructure failures surface as failed executions instead.
            if function not in business_error_functions:
                self._alarm(
                    namer(f"{function.base_name}-errors"),
                    "AWS/Lambda",
                    "Errors",
                    dimensions,
                    thresholds.lambda_error_threshold,
                )
            self._alarm(
                namer(f"{function.base_name}-throttles"),
                "AWS/Lambda",
                "Throttles",
                dimensions,
                thresholds.lambda_throttle_threshold,
            )

    def _build_batch_file_alarms(self, batch_files: BatchIngestion) -> None:
        """The ingest side's own failure path: a file that failed, timed out or was stopped, and
        an S3 event that never started one (its DLQ). Any one needs a human."""
        self._unfinished_execution_alarms("batch-file", batch_files.file_state_machine, 1)
        self._dead_letter_alarm("batch-file-dlq-not-empty", batch_files.file_dlq)

    def _build_platform_alarms(
        self, queues: Queues, api_dimensions: Mapping[str, str], state_machine: SfnStateMachine
    ) -> None:
        namer, thresholds = self._namer, self._settings
        # One message in the DLQ is one payment that needs a human.
        self._dead_letter_alarm("payment-dlq-not-empty", queues.dlq)
        self._alarm(
            namer("payments-api-5xx"), "AWS/ApiGateway", "5XXError", api_dimensions, thresholds.api_5xx_threshold
        )
        self._alarm(
            namer("payments-api-p99-latency"),
            "AWS/ApiGateway",
            "Latency",
            api_dimensions,
            thresholds.api_p99_latency_ms,
            extended_statistic="p99",
        )

    def _build_stalled_payment_alarms(self, state_machine: SfnStateMachine, workflow_starter: PaymentFunction) -> None:
        """Every way an accepted payment can stop short of SETTLED/FAILED raises one of these."""
        namer, thresholds = self._namer, self._settings
        # Retries exhausted on an infrastructure error (redrivable), the execution's own
        # timeout (a Catch cannot see it), or stopped by hand: the payment is left where it was.
        self._unfinished_execution_alarms("payment-workflow", state_machine, thresholds.state_machine_failed_threshold)
        # Not started yet: the age of the oldest payment insert the starter has not handled.
        self._alarm(
            namer("payment-workflow-start-lag"),
            "AWS/Lambda",
            "IteratorAge",
            {"FunctionName": workflow_starter.lambda_function.function_name},
            thresholds.unstarted_payment_age_seconds * 1000,
            statistic="Maximum",
        )
        # A start given up after every retry is written to the outbox's give-up bucket, which
        # alarms on its own (WorkflowOutbox.alarm_specs): the payment DLQ holds only batch rows.

    def _alarm_from(self, spec: AlarmSpec) -> None:
        self._alarm(
            self._namer(spec.stem),
            spec.namespace,
            spec.metric,
            spec.dimensions,
            spec.threshold,
            statistic=spec.statistic,
            comparison=spec.comparison,
            period_seconds=spec.period_seconds,
            description=spec.description or None,
        )

    def _unfinished_execution_alarms(self, name: str, state_machine: SfnStateMachine, threshold: int) -> None:
        """``<name>-failed``, ``-timed-out`` and ``-aborted``: executions that ended without finishing."""
        machine = {"StateMachineArn": state_machine.arn}
        for metric, outcome in (
            ("ExecutionsFailed", "failed"),
            ("ExecutionsTimedOut", "timed-out"),
            ("ExecutionsAborted", "aborted"),
        ):
            self._alarm(self._namer(f"{name}-{outcome}"), "AWS/States", metric, machine, threshold)

    def _dead_letter_alarm(self, name: str, queue: SqsQueue) -> None:
        """Alarm on the first message in a dead-letter queue: each is an item that needs a human."""
        self._alarm(
            self._namer(name),
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": queue.name},
            0,
            statistic="Maximum",
            comparison="GreaterThanThreshold",
        )

    def _alarm(
        self,
        name: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        threshold: int,
        *,
        statistic: str | None = "Sum",
        extended_statistic: str | None = None,
        comparison: str = "GreaterThanOrEqualToThreshold",
        period_seconds: int | None = None,
        description: str | None = None,
    ) -> None:
        construct_id = name.removesuffix(f"-{self._namer.suffix}").replace("-", "_")
        self.alarms[name] = CloudwatchMetricAlarm(
            self,
            construct_id,
            alarm_name=name,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=None if extended_statistic else statistic,
            extended_statistic=extended_statistic,
            period=period_seconds or self._settings.period_seconds,
            evaluation_periods=self._settings.evaluation_periods,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data="notBreaching",
            alarm_description=description,
            alarm_actions=self._alarm_actions,
            ok_actions=self._alarm_actions,
        )

    def _dashboard_body(
        self,
        region: str,
        functions: Sequence[PaymentFunction],
        queues: Queues,
        api_dimensions: Mapping[str, str],
        state_machine: SfnStateMachine,
    ) -> dict[str, Any]:
        def widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
            return {
                "type": "metric",
                "x": x,
                "y": y,
                "width": 12,
                "height": 6,
                "properties": {"title": title, "region": region, "stat": stat, "period": 300, "metrics": metrics},
            }

        names = [f.lambda_function.function_name for f in functions]
        api_dims = ["ApiName", api_dimensions["ApiName"], "Stage", api_dimensions["Stage"]]
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
                        ["AWS/States", m, "StateMachineArn", state_machine.arn]
                        for m in (
                            "ExecutionsStarted",
                            "ExecutionsSucceeded",
                            "ExecutionsFailed",
                            "ExecutionsTimedOut",
                            "ExecutionsAborted",
                        )
                    ],
                    0,
                    12,
                ),
                # Business outcomes (emitted by the workflow function): watched, never alarmed.
                widget(
                    "Payment outcomes",
                    [
                        [self._metrics_namespace, name, "service", self._service]
                        for name in (contract.PAYMENT_SETTLED_METRIC, *contract.BUSINESS_ERRORS)
                    ],
                    0,
                    18,
                ),
                widget(
                    "Queue depth",
                    [
                        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queues.queue.name],
                        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queues.dlq.name],
                    ],
                    12,
                    12,
                    stat="Maximum",
                ),
            ]
        }
