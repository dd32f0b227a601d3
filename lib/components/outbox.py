"""The transactional outbox: every new payment's workflow starts from the payments table's stream.

The write that accepts a payment also records it on the table's stream (atomically, it is the
same write), so a payment can no longer be stored without its workflow being started: the
``workflow_starter`` function calls ``StartExecution(name=<payment_id>)`` for each ``INSERT``
record, and a failed start fails that record, which the mapping retries in order. Why a
stream rather than a scheduled reconciler: docs/architecture.md, "Starting the workflow".
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingFilterCriteria,
    LambdaEventSourceMappingFilterCriteriaFilter,
)
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedStreamConsumer
from lib.components.base import PlatformConstruct
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.policies import statement

# Only new payments start workflows; status updates (MODIFY) are dropped by Lambda, unbilled.
INSERTS_ONLY = json.dumps({"eventName": ["INSERT"]})
# Records per invocation: one StartExecution each.
STARTER_BATCH_SIZE = 10
# A failing batch is retried this many times (Lambda backs off between retries; the record
# blocks its shard meanwhile, which keeps starts in order) before its description goes to the
# dead-letter queue, whose alarm then names a payment that needs a redrive. Enough to ride
# out a long StartExecution throttle; a poison record cannot block the shard for 24 hours.
STARTER_MAXIMUM_RETRY_ATTEMPTS = 100


class WorkflowOutbox(PlatformConstruct):
    """The ``workflow_starter`` function and its mapping on the payments table's stream."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        payments_table: DynamodbTable,
        state_machine: SfnStateMachine,
        dead_letter_queue: SqsQueue,
    ) -> None:
        super().__init__(scope, construct_id, context)
        self.starter_function: PaymentFunction = self._build_starter(payments_table, state_machine, dead_letter_queue)
        self.stream_mapping: LambdaEventSourceMapping = self._build_mapping(payments_table, dead_letter_queue)

    def _build_starter(
        self,
        payments_table: DynamodbTable,
        state_machine: SfnStateMachine,
        dead_letter_queue: SqsQueue,
    ) -> PaymentFunction:
        return self._function(
            "starter",
            contract.WORKFLOW_STARTER,
            [
                statement("StartWorkflow", ["states:StartExecution"], [state_machine.arn]),
                # What Lambda's poller needs on the function's role to read the stream, scoped
                # to the table's streams as the DynamoDB developer guide's example for Lambda does.
                statement(
                    "ReadPaymentInserts",
                    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    [f"{payments_table.arn}/stream/*"],
                ),
                # ListStreams is among the permissions Lambda's documentation lists for a DynamoDB
                # event source, and it has no resource type (Service Authorization Reference,
                # DynamoDB): scoped to a stream ARN it grants nothing, so "*" is the only grant.
                statement("FindPaymentStreams", ["dynamodb:ListStreams"], ["*"]),
                # Lambda sends a batch given up on to the on-failure destination as the function.
                statement("GiveUpToDeadLetterQueue", ["sqs:SendMessage"], [dead_letter_queue.arn]),
                # The table's stream and the DLQ are encrypted with the CMK.
                statement("UseKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self._context.key.arn]),
            ],
            environment={contract.STATE_MACHINE_ARN: state_machine.arn},
        )

    def _build_mapping(self, payments_table: DynamodbTable, dead_letter_queue: SqsQueue) -> LambdaEventSourceMapping:
        return LambdaEventSourceMapping(
            self,
            "stream_mapping",
            event_source_arn=payments_table.stream_arn,
            function_name=self.starter_function.lambda_function.arn,
            starting_position="TRIM_HORIZON",
            batch_size=STARTER_BATCH_SIZE,
            maximum_retry_attempts=STARTER_MAXIMUM_RETRY_ATTEMPTS,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria=LambdaEventSourceMappingFilterCriteria(
                filter=[LambdaEventSourceMappingFilterCriteriaFilter(pattern=INSERTS_ONLY)]
            ),
            destination_config=LambdaEventSourceMappingDestinationConfig(
                on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(destination_arn=dead_letter_queue.arn)
            ),
            # CreateEventSourceMapping checks the function's role may read the stream: policy first.
            depends_on=[self.starter_function.policy],
        )

    def alarm_sources(self) -> AlarmSources:
        # Not started yet: the age of the oldest payment insert the starter has not handled. A
        # start given up after every retry lands in the payment DLQ (alarmed on one message).
        return AlarmSources(
            functions=(WatchedFunction(self.starter_function),),
            stream_consumers=(WatchedStreamConsumer("payment-workflow-start-lag", self.starter_function),),
        )
