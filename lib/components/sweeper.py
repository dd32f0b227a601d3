"""Recovery: the ``sweeper`` function, run by EventBridge Scheduler, re-drives payments left non-final.

Every path that gives up on a payment (the outbox's start after its retries, an execution that
failed on infrastructure, timed out or was aborted) leaves it non-final, so it stays in the
payments table's sparse open-payments index. The sweeper reads that index every
``sweeper.interval_minutes`` and, for each payment older than ``stale_after_seconds``, starts its
execution under the outbox's name or redrives the failed one (payment_core/payments/sweeping.py).
It publishes the age of the oldest non-final payment; that metric is alarmed.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedPaymentAge
from lib.components.base import ConfiguredConstruct
from lib.components.foundations import WorkflowFoundations
from lib.components.function import PaymentFunction
from lib.components.policies import account_service_trust, statement
from lib.components.workflow import EXECUTION_TIMEOUT_SECONDS
from lib.config import SweeperConfig

# Past its execution timeout an execution started on time has ended (succeeded, failed or timed
# out), so a payment still non-final that long after it was created has lost its way. The minute
# on top absorbs clock skew between the function and Step Functions and the index's propagation.
STALE_MARGIN_SECONDS = 60
STALE_AFTER_SECONDS = EXECUTION_TIMEOUT_SECONDS + STALE_MARGIN_SECONDS
# A missed invocation is not retried for long: the next sweep comes within the interval anyway.
SCHEDULE_MAXIMUM_RETRY_ATTEMPTS = 2
SCHEDULE_MAXIMUM_EVENT_AGE_SECONDS = 300


def oldest_open_alarm_seconds(interval_minutes: int) -> int:
    """When the oldest non-final payment's age means the sweeper could not recover it: stale, then
    found by a sweep within one interval, then its re-driven execution given a full timeout."""
    return STALE_AFTER_SECONDS + interval_minutes * 60 + EXECUTION_TIMEOUT_SECONDS


class PaymentSweeper(ConfiguredConstruct[SweeperConfig, WorkflowFoundations]):
    """The ``sweeper_function``, its ``schedule`` and the ``schedule_role`` that invokes it."""

    def _build(self, inputs: WorkflowFoundations) -> None:
        self._start_slots = inputs.start_slots
        self.sweeper_function: PaymentFunction = self._build_function(
            inputs.storage.payments_table, inputs.state_machine
        )
        self.schedule_role: IamRole = self._build_schedule_role()
        self.schedule: SchedulerSchedule = self._build_schedule()

    def _build_function(self, payments_table: DynamodbTable, state_machine: SfnStateMachine) -> PaymentFunction:
        context = self._context
        executions = (
            f"arn:{context.partition}:states:{context.region}:{context.account_id}:execution:{state_machine.name}:*"
        )
        return self._function(
            "sweeper",
            contract.SWEEPER,
            [
                # The sparse index only: the sweeper reads ids and ages, never a payment.
                statement(
                    "FindOpenPayments",
                    ["dynamodb:Query"],
                    [f"{payments_table.arn}/index/{contract.OPEN_PAYMENTS_INDEX}"],
                ),
                statement("StartLostWorkflows", ["states:StartExecution"], [state_machine.arn]),
                # Reclaims the slots of executions that ended without freeing them, wakes the
                # waiting, and admits a lost payment like the starter does.
                *self._start_slots.grants(),
                statement(
                    "RedriveFailedWorkflows",
                    ["states:DescribeExecution", "states:RedriveExecution"],
                    [executions],
                ),
            ],
            environment={
                contract.STATE_MACHINE_ARN: state_machine.arn,
                contract.SWEEP_STALE_AFTER_SECONDS: str(STALE_AFTER_SECONDS),
            },
        )

    def _build_schedule_role(self) -> IamRole:
        context = self._context
        assume = account_service_trust(
            self, "schedule_assume_role", "SchedulerAssumes", "scheduler.amazonaws.com", context.account_id
        )
        role = IamRole(
            self,
            "schedule_role",
            name=context.namer.account_wide("payment-sweeper-schedule-role"),
            assume_role_policy=assume.json,
        )
        document = DataAwsIamPolicyDocument(
            self,
            "schedule_policy_document",
            statement=[statement("InvokeSweeper", ["lambda:InvokeFunction"], self.sweeper_function.invoke_grant)],
        )
        self._schedule_policy = IamRolePolicy(
            self,
            "schedule_policy",
            name=context.namer("payment-sweeper-schedule-policy"),
            role=role.id,
            policy=document.json,
        )
        return role

    def _build_schedule(self) -> SchedulerSchedule:
        minutes = self._settings.interval_minutes
        return SchedulerSchedule(
            self,
            "schedule",
            name=self._context.namer("payment-sweeper"),
            description="Re-drives payments left non-final past the workflow's execution timeout",
            schedule_expression=f"rate({minutes} {'minute' if minutes == 1 else 'minutes'})",
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            target=SchedulerScheduleTarget(
                arn=self.sweeper_function.live_arn,
                role_arn=self.schedule_role.arn,
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=SCHEDULE_MAXIMUM_RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=SCHEDULE_MAXIMUM_EVENT_AGE_SECONDS,
                ),
            ),
            # The first invocation needs the role's grant in place.
            depends_on=[self._schedule_policy],
        )

    def alarm_sources(self) -> AlarmSources:
        return AlarmSources(
            functions=(WatchedFunction(self.sweeper_function),),
            payment_ages=(
                WatchedPaymentAge(
                    alarm_name="payment-oldest-open-age",
                    metric_name=contract.OLDEST_OPEN_PAYMENT_AGE_METRIC,
                    threshold_seconds=oldest_open_alarm_seconds(self._settings.interval_minutes),
                ),
            ),
        )
