"""A function on a DynamoDB table's stream that sees each new item once, in order per key.

The outbox's starter (payments table) and the events' writer (audit table) consume their
streams alike: only ``INSERT`` records, partial-batch failures retried in order, and a batch
given up after its retries written whole to the outbox's give-up bucket (alarmed). What differs
is the table, the function and the batch size.
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingFilterCriteria,
    LambdaEventSourceMappingFilterCriteriaFilter,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from constructs import Construct

from lib.components.function import PaymentFunction
from lib.components.policies import statement

# Only new items: a status update (MODIFY) is dropped by Lambda, unbilled, and the audit table is
# append-only (every transition is one INSERT).
INSERTS_ONLY = json.dumps({"eventName": ["INSERT"]})
# Where Lambda writes an S3 on-failure record: aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/...
# (Lambda developer guide, "Retain discarded records for a DynamoDB event source"). The
# request-metrics filter and the consumers' PutObject grants all cover exactly this prefix.
GIVE_UP_PREFIX = "aws/lambda/"
# Every consumer's: a failing batch is retried this many times (Lambda backs off between retries;
# the record blocks its shard meanwhile, which keeps the order) before the invocation record goes
# to the give-up bucket, whose alarm fires on the first object. Enough to ride out a long
# throttle (StartExecution's, DynamoDB's); a poison record cannot block the shard for 24 hours.
MAXIMUM_RETRY_ATTEMPTS = 100


def stream_consumer_statements(
    records: str, table: DynamodbTable, give_up_bucket: S3Bucket, key_arn: str
) -> list[DataAwsIamPolicyDocumentStatement]:
    """What the function's role needs to consume ``table``'s stream (statement ids name the
    ``records``: ``Read<records>Inserts``, ``Find<records>Streams``) and give a batch up."""
    return [
        # What Lambda's poller needs on the function's role to read the stream, scoped to the
        # table's streams as the DynamoDB developer guide's example for Lambda does.
        statement(
            f"Read{records}Inserts",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [f"{table.arn}/stream/*"],
        ),
        # ListStreams is among the permissions Lambda's documentation lists for a DynamoDB event
        # source, and it has no resource type (Service Authorization Reference, DynamoDB): scoped
        # to a stream ARN it grants nothing, so "*" is the only grant.
        statement(f"Find{records}Streams", ["dynamodb:ListStreams"], ["*"]),
        # Lambda writes a batch given up on to the S3 on-failure destination as the function:
        # s3:PutObject and s3:ListBucket (Lambda developer guide, DynamoDB on-failure
        # destinations), the objects only under Lambda's own prefix.
        statement("GiveUpToBucket", ["s3:PutObject"], [f"{give_up_bucket.arn}/{GIVE_UP_PREFIX}*"]),
        statement("ListGiveUpBucket", ["s3:ListBucket"], [give_up_bucket.arn]),
        # The stream and the bucket (and whatever the function writes) are encrypted with the CMK.
        statement("UseKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
    ]


def inserts_mapping(
    scope: Construct,
    table: DynamodbTable,
    function: PaymentFunction,
    give_up_bucket: S3Bucket,
    *,
    batch_size: int,
) -> LambdaEventSourceMapping:
    """The ``stream_mapping`` of ``function`` (its live alias: a deploy never swaps code under a
    batch) on ``table``'s stream, from its oldest record."""
    return LambdaEventSourceMapping(
        scope,
        "stream_mapping",
        event_source_arn=table.stream_arn,
        function_name=function.live_arn,
        starting_position="TRIM_HORIZON",
        batch_size=batch_size,
        # Lambda backs off between retries; the record blocks its shard meanwhile, which keeps
        # the order. Past the retries the invocation record goes to the give-up bucket.
        maximum_retry_attempts=MAXIMUM_RETRY_ATTEMPTS,
        bisect_batch_on_function_error=True,
        function_response_types=["ReportBatchItemFailures"],
        filter_criteria=LambdaEventSourceMappingFilterCriteria(
            filter=[LambdaEventSourceMappingFilterCriteriaFilter(pattern=INSERTS_ONLY)]
        ),
        # An S3 destination keeps the whole invocation record (an SQS or SNS one only the batch's
        # shard and sequence range, useless once the stream trims them after 24 h).
        destination_config=LambdaEventSourceMappingDestinationConfig(
            on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(destination_arn=give_up_bucket.arn)
        ),
        # CreateEventSourceMapping checks the function's role may read the stream: policy first.
        depends_on=[function.policy],
    )
