"""Least privilege of the functions' roles, proven on the synthesized stack of every environment.

Each role's grants are compared, as exact (action, resource) pairs, with what its code calls.
The comments name the call in lambda/ (or the service behaviour) that needs each action.
"""

from __future__ import annotations

import pytest

from lib.config import config_for
from tests.security.iam import (
    arn_of,
    batch_state_machine_arn,
    bucket_arn,
    function_name,
    grants_of_role,
    readable,
    stack_environment,
    stack_suffix,
)
from tests.unit.synth import SynthesizedStack, platform_key

LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")  # Lambda writing its own log group
LAMBDA_XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")  # active tracing


def _function_grants(stack: SynthesizedStack, function: str) -> set[tuple[str, str]]:
    """Exactly what ``payment_core.handlers.<function>`` (and the modules it uses) calls."""
    s = stack_suffix(stack)
    key = stack.reference_of("aws_kms_key", platform_key(stack), "arn")
    payments = arn_of(stack, "aws_dynamodb_table", "name", f"payments-{s}")
    audit = arn_of(stack, "aws_dynamodb_table", "name", f"payment-audit-{s}")
    batch_jobs = arn_of(stack, "aws_dynamodb_table", "name", f"batch-jobs-{s}")
    merchants = arn_of(stack, "aws_dynamodb_table", "name", f"merchants-{s}")
    events = arn_of(stack, "aws_dynamodb_table", "name", f"payment-events-{s}")
    mac_key = next(
        stack.reference_of("aws_kms_key", k, "arn")
        for k in stack.resources("aws_kms_key").values()
        if k.get("key_usage") == "GENERATE_VERIFY_MAC"
    )
    queue = arn_of(stack, "aws_sqs_queue", "name", f"payment-processing-{s}")
    claims = arn_of(stack, "aws_dynamodb_table", "name", f"batch-payment-claims-{s}")
    give_up_bucket = bucket_arn(stack, "payment-start-give-ups-")
    file_dlq = arn_of(stack, "aws_sqs_queue", "name", f"batch-file-dlq-{s}")
    webhook_queue = arn_of(stack, "aws_sqs_queue", "name", f"webhook-deliveries-{s}")
    batch_state_machine = batch_state_machine_arn(stack)
    topic = arn_of(stack, "aws_sns_topic", "name", f"payment-status-{s}")
    state_machine = arn_of(stack, "aws_sfn_state_machine", "name", f"payment-workflow-{s}")
    bucket = bucket_arn(stack, "payment-batch-")
    log_group = arn_of(stack, "aws_cloudwatch_log_group", "name", f"/aws/lambda/{function_name(stack, function)}")
    # StartSlots (payment_core.payments.admission): take and give back a slot (UpdateItem), read
    # the holders (GetItem), park, list and unpark a waiting payment (PutItem, Query, DeleteItem).
    slots = arn_of(stack, "aws_dynamodb_table", "name", f"payment-start-slots-{s}")
    start_slots = {
        (action, slots)
        for action in (
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        )
    }

    common = {(action, f"{log_group}:*") for action in LOGS}
    common.add(("kms:Decrypt", key))  # environment variables are encrypted with the CMK
    if config_for(stack_environment(stack)).xray_tracing:
        common |= {(action, "*") for action in LAMBDA_XRAY}

    specific: dict[str, set[tuple[str, str]]] = {
        "api": {
            # PaymentRepository.create: TransactWriteItems of two conditional Puts.
            ("dynamodb:PutItem", payments),
            ("dynamodb:PutItem", audit),
            # PaymentRepository.get (GET /payments/{id}, and a replayed Idempotency-Key's check).
            ("dynamodb:GetItem", payments),
            # PaymentRepository.history (the audit trail in GET /payments/{id}).
            ("dynamodb:Query", audit),
            # PaymentRepository.list_by_merchant (GET /payments): the keys-only GSI, then the items.
            *{("dynamodb:Query", f"{payments}/index/merchant-created-index"), ("dynamodb:BatchGetItem", payments)},
            # No idempotency table: the payment row is the Idempotency-Key's record.
            # No StartExecution: the payment's stream record starts its workflow (the outbox).
            # PageTokens with KmsMac: next_token issued (GenerateMac) and checked (VerifyMac).
            ("kms:GenerateMac", mac_key),
            ("kms:VerifyMac", mac_key),
            # EventStore.get and list (GET /events/{id}, GET /events): the caller's partition.
            *{("dynamodb:GetItem", events), ("dynamodb:Query", events)},
            # EndpointStore.add, delete and replace_secrets (the caller's webhook endpoints), and
            # SecretBox.seal of a new signing secret under the platform key.
            *{("dynamodb:PutItem", events), ("dynamodb:DeleteItem", events), ("dynamodb:UpdateItem", events)},
            ("kms:Encrypt", key),
            # capture/void: the ask (a conditional UpdateItem), then SendTaskSuccess to the execution
            # resting in AwaitCapture (a service-integration task token: IAM scopes no resource),
            # whose output Step Functions encrypts with the state machine's CMK.
            ("dynamodb:UpdateItem", payments),
            ("states:SendTaskSuccess", "*"),
            ("kms:GenerateDataKey", key),
        },
        "workflow": {
            # PaymentRepository.get and record_processor_attempt (UpdateItem).
            ("dynamodb:GetItem", payments),
            ("dynamodb:UpdateItem", payments),
            # PaymentRepository.transition: TransactWriteItems of an Update and an audit Put.
            ("dynamodb:PutItem", audit),
            ("dynamodb:GetItem", merchants),  # validate: MerchantDirectory.get, the status now
            # SnsStatusPublisher.publish to the CMK-encrypted topic: SNS asks for a data key.
            ("sns:Publish", topic),
            ("kms:GenerateDataKey", key),
            # await_capture wakes its own execution when the merchant asked first.
            ("states:SendTaskSuccess", "*"),
            # Notify and AwaitCapture free the slot and start the oldest waiting payment: the
            # workflow's ARN spelled from its name (the state machine names this function).
            *start_slots,
            (
                "states:StartExecution",
                batch_state_machine_arn(stack).split(":stateMachine:")[0] + f":stateMachine:payment-workflow-{s}",
            ),
        },
        "batch_ingest": {
            # plan's and each chunk's get_object (ranged), with VersionId (GetObjectVersion).
            ("s3:GetObject", f"{bucket}/incoming/*"),
            ("s3:GetObjectVersion", f"{bucket}/incoming/*"),
            # put_object of the rejection report (plan: a bad header; finish: the joined report).
            ("s3:PutObject", f"{bucket}/reports/*"),
            # Chunk descriptors (plan writes), per-chunk rejections (chunk writes, finish reads).
            ("s3:GetObject", f"{bucket}/batch-work/*"),
            ("s3:PutObject", f"{bucket}/batch-work/*"),
            # finish lists a job's rejection parts (ListObjectsV2, narrowed to batch-work/).
            ("s3:ListBucket", bucket),
            # SSE-KMS objects: decrypt to read, a data key to write (and to send to the queue).
            ("kms:GenerateDataKey", key),
            # BatchFiles.begin/set_chunks/complete/fail and BatchLedger progress (update_item),
            # reads (get_item); chunk completion is a TransactWriteItems of two Updates.
            ("dynamodb:UpdateItem", batch_jobs),
            ("dynamodb:GetItem", batch_jobs),
            # BatchLedger.claim: TransactWriteItems of conditional Puts.
            ("dynamodb:PutItem", claims),
            # start_file: one execution per object version.
            ("states:StartExecution", batch_state_machine),
            # Each chunk's MerchantDirectory.is_active: a row's merchant must be ACTIVE.
            ("dynamodb:GetItem", merchants),
            # AcceptedRowSender: send_message_batch is authorized as sqs:SendMessage.
            ("sqs:SendMessage", queue),
            # Lambda delivers a failed asynchronous S3 event to the ingest side's own DLQ.
            ("sqs:SendMessage", file_dlq),
        },
        "queue_consumer": {
            # The SQS event source mapping polls and deletes as this role.
            ("sqs:ReceiveMessage", queue),
            ("sqs:DeleteMessage", queue),
            ("sqs:GetQueueAttributes", queue),
            # PaymentRepository.create (two Puts) and get.
            ("dynamodb:PutItem", payments),
            ("dynamodb:PutItem", audit),
            ("dynamodb:GetItem", payments),
        },
        "workflow_starter": {
            # StepFunctionsStarter.start
            ("states:StartExecution", state_machine),
            *start_slots,  # admit: a slot before each start, or the payment waits
            # The stream event source mapping reads the payments table's stream as this role.
            *_stream_consumer(payments, give_up_bucket, key),
        },
        "authorizer": {
            # MerchantDirectory.authenticate: the secret key's lookup item, then the merchant item.
            ("dynamodb:GetItem", merchants),
        },
        "sweeper": {
            # OpenPayments.oldest and created_before query the sparse index only (the table's
            # CMK: the common kms:Decrypt).
            ("dynamodb:Query", f"{payments}/index/open-payments-index"),
            # PaymentExecutions.start, as the outbox does.
            ("states:StartExecution", state_machine),
            # PaymentExecutions.status and redrive, on the payment workflow's executions only.
            ("states:DescribeExecution", _workflow_executions(stack)),
            ("states:RedriveExecution", _workflow_executions(stack)),
            *start_slots,  # reclaim, wake, admit a lost payment, a slot before a redrive
        },
        "event_writer": {
            # EventStore.put: one conditional PutItem per event.
            ("dynamodb:PutItem", events),
            # The stream event source mapping reads the audit table's stream as this role; a given-up
            # batch goes to the outbox's give-up bucket.
            *_stream_consumer(audit, give_up_bucket, key),
        },
        "webhook_fanout": {
            # EndpointStore.list (a Query of the merchant's partition), then SendMessageBatch
            # (authorized as sqs:SendMessage) to the CMK-encrypted queue (its data key: the
            # stream consumer's kms:GenerateDataKey, and the common kms:Decrypt).
            ("dynamodb:Query", events),
            ("sqs:SendMessage", webhook_queue),
            # The stream event source mapping reads the events table's stream as this role.
            *_stream_consumer(events, give_up_bucket, key),
        },
        "webhook_delivery": {
            # DeliveryRecords: event and endpoint (GetItem), attempts and disabling (UpdateItem),
            # the endpoint.disabled transition (the audit Put of the same transaction).
            ("dynamodb:GetItem", events),
            ("dynamodb:UpdateItem", events),
            ("dynamodb:PutItem", audit),
            # The SQS mapping polls and deletes as this role; a failed attempt sets its backoff.
            *{
                (action, webhook_queue)
                for action in (
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                )
            },
            # SecretBox.open and the queue's messages: kms:Decrypt on the platform key, the common grant.
        },
    }
    return common | specific[function]


def _stream_consumer(table: str, give_up_bucket: str, key: str) -> set[tuple[str, str]]:
    """What a DynamoDB stream event source mapping needs of the role it runs as."""
    return {
        *{
            (action, f"{table}/stream/*")
            for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
        },
        ("dynamodb:ListStreams", "*"),  # it takes no resource: "*" is the only grant that means anything
        # A given-up batch is written to the S3 on-failure destination, under Lambda's own prefix.
        ("s3:PutObject", f"{give_up_bucket}/aws/lambda/*"),
        ("s3:ListBucket", give_up_bucket),
        # The table (and so its stream) and the bucket are encrypted with the CMK.
        ("kms:GenerateDataKey", key),
    }


def _workflow_executions(stack: SynthesizedStack) -> str:
    """The payment workflow's execution ARNs: ``arn:<partition>:states:<region>:<account>:execution:<name>:*``,
    partition, region and account as the stack writes every ARN it builds (the batch state machine's)."""
    partition_region_account = batch_state_machine_arn(stack).split(":stateMachine:")[0]
    machine = stack.named("aws_sfn_state_machine", "name", f"payment-workflow-{stack_suffix(stack)}")
    name = stack.reference_of("aws_sfn_state_machine", machine, "name")
    return f"{partition_region_account}:execution:{name}:*"


@pytest.mark.parametrize(
    "function",
    [
        "api",
        "workflow",
        "batch_ingest",
        "queue_consumer",
        "authorizer",
        "workflow_starter",
        "sweeper",
        "event_writer",
        "webhook_fanout",
        "webhook_delivery",
    ],
)
def test_each_function_role_grants_exactly_what_its_handler_calls(env_stack: SynthesizedStack, function: str) -> None:
    lambda_function = env_stack.named("aws_lambda_function", "function_name", function_name(env_stack, function))
    granted = grants_of_role(env_stack, lambda_function["role"])
    expected = _function_grants(env_stack, function)
    # Left: granted but never called. Right: called but not granted.
    assert (readable(granted - expected), readable(expected - granted)) == ([], [])
