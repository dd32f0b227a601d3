"""The transactional outbox: every new payment's workflow starts from the payments table's stream.

The write that accepts a payment also records it on the table's stream (atomically, it is the
same write), so a payment can no longer be stored without its workflow being started: the
``workflow_starter`` function calls ``StartExecution(name=<payment_id>)`` for each ``INSERT``
record, and a failed start fails that record, which the mapping retries in order. Why a
stream rather than a scheduled reconciler: docs/architecture.md, "Starting the workflow".

When the mapping gives a batch up, Lambda writes the *whole* invocation record (the stream
records, not just their sequence range) to the starter's own bucket: stream records expire
after 24 hours, the bucket keeps them until someone re-drives the payments
(docs/operations.md, "A workflow start given up").
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_metric import S3BucketMetric, S3BucketMetricFilter
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedGiveUps, WatchedStreamConsumer
from lib.components.base import ConfiguredConstruct
from lib.components.buckets import private_bucket
from lib.components.foundations import WorkflowFoundations
from lib.components.function import PaymentFunction
from lib.components.policies import statement
from lib.components.stream_consumer import GIVE_UP_PREFIX, inserts_mapping, stream_consumer_statements
from lib.config.pacing import STARTER_CALL_RESERVE_MS, StartPacing

GIVE_UP_METRICS_FILTER = "starter-give-ups"


class WorkflowOutbox(ConfiguredConstruct[StartPacing, WorkflowFoundations]):
    """The ``workflow_starter`` function, its mapping on the payments table's stream, and the
    bucket that keeps what the mapping gives up (``give_up_bucket``); its settings are the start
    pacing."""

    def _build(self, inputs: WorkflowFoundations) -> None:
        self._start_slots = inputs.start_slots
        payments_table = inputs.storage.payments_table
        self.give_up_bucket: S3Bucket = self._build_give_up_bucket(inputs.queues.settings.start_give_up_retention_days)
        self.starter_function: PaymentFunction = self._build_starter(payments_table, inputs.state_machine)
        self.stream_mapping: LambdaEventSourceMapping = self._build_mapping(payments_table)

    def _build_give_up_bucket(self, retention_days: int) -> S3Bucket:
        context = self._context
        bucket = private_bucket(
            self,
            "give_up_bucket",
            context.namer.account_wide(f"payment-start-give-ups-{context.account_id}"),
            key=context.key,
            versioning=True,
            lifecycle=S3BucketLifecycleConfigurationRule(
                id="age-out-give-up-records",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                # Long enough to be re-driven after any weekend or holiday; the runbook moves a
                # handled record out of the way (deletes it), which this rule then cleans up.
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=retention_days)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                ],
            ),
        )
        S3BucketMetric(
            self,
            "give_up_metrics",
            bucket=bucket.id,
            name=GIVE_UP_METRICS_FILTER,
            filter=S3BucketMetricFilter(prefix=GIVE_UP_PREFIX),
        )
        return bucket

    def _build_starter(self, payments_table: DynamodbTable, state_machine: SfnStateMachine) -> PaymentFunction:
        bucket = self.give_up_bucket
        return self._function(
            "starter",
            contract.WORKFLOW_STARTER,
            [
                statement("StartWorkflow", ["states:StartExecution"], [state_machine.arn]),
                # A slot before each start, or the payment waits for one (admission).
                *self._start_slots.grants(),
                *stream_consumer_statements("Payment", payments_table, bucket, self._context.key.arn),
            ],
            environment={contract.STATE_MACHINE_ARN: state_machine.arn, **self._pacing_environment()},
        )

    def _pacing_environment(self) -> dict[str, str]:
        base_ms, max_ms = self._settings.throttle_retry_ms
        return {
            # Rounded up: the pace is never faster than the one derived.
            contract.START_INTERVAL_MS: str(self._settings.start_interval_ms),
            contract.START_RETRY_BASE_MS: str(base_ms),
            contract.START_RETRY_MAX_MS: str(max_ms),
            contract.START_TIME_RESERVE_MS: str(STARTER_CALL_RESERVE_MS),
        }

    def _build_mapping(self, payments_table: DynamodbTable) -> LambdaEventSourceMapping:
        return inserts_mapping(
            self,
            payments_table,
            self.starter_function,
            self.give_up_bucket,
            # What the starter starts at its pace in pacing.starter_batch_seconds (lib/config/pacing.py).
            batch_size=self._settings.batch_size,
        )

    def alarm_sources(self) -> AlarmSources:
        # Not started yet: the age of the oldest payment insert the starter has not handled. A
        # start given up after every retry is written to the give-up bucket, alarmed on the first
        # record (and on a record Lambda could not write).
        give_ups = WatchedGiveUps(
            "payment-workflow-start-given-up",
            self.give_up_bucket,
            GIVE_UP_METRICS_FILTER,
            "payment-workflow-start-give-up-undelivered",
            self.starter_function,
        )
        return AlarmSources(
            functions=(WatchedFunction(self.starter_function),),
            stream_consumers=(WatchedStreamConsumer("payment-workflow-start-lag", self.starter_function),),
            give_ups=(give_ups,),
        )
