"""Least privilege, proven on the synthesized stack of every environment.

Each role's grants are compared, as exact (action, resource) pairs, with what its code calls.
The comments name the call in lambda/ (or the service behaviour) that needs each action.
"""

from __future__ import annotations

from typing import Any

import pytest

from lib.config import config_for
from tests.security.iam import (
    STATE_MACHINE_WILDCARD_ACTIONS,
    grants,
    identity_policy_violations,
    managed_policy_arns,
    role_id,
    role_policy_documents,
    statements,
)
from tests.unit.synth import SynthesizedStack, platform_key

LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")  # Lambda writing its own log group
LAMBDA_XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")  # active tracing


def _suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def _environment(stack: SynthesizedStack) -> str:
    (provider,) = stack.document["provider"]["aws"]
    return str(provider["default_tags"][0]["tags"]["Environment"])


def _arn(stack: SynthesizedStack, resource_type: str, name_field: str, name: str) -> str:
    return stack.reference_of(resource_type, stack.named(resource_type, name_field, name), "arn")


def _bucket_arn(stack: SynthesizedStack, prefix: str) -> str:
    (bucket,) = [b for b in stack.resources("aws_s3_bucket").values() if b["bucket"].startswith(prefix)]
    return stack.reference_of("aws_s3_bucket", bucket, "arn")


def _function_grants(stack: SynthesizedStack, function: str) -> set[tuple[str, str]]:
    """Exactly what ``payment_core.handlers.<function>`` (and the modules it uses) calls."""
    s = _suffix(stack)
    key = stack.reference_of("aws_kms_key", platform_key(stack), "arn")
    payments = _arn(stack, "aws_dynamodb_table", "name", f"payments-{s}")
    audit = _arn(stack, "aws_dynamodb_table", "name", f"payment-audit-{s}")
    batch_jobs = _arn(stack, "aws_dynamodb_table", "name", f"batch-jobs-{s}")
    merchants = _arn(stack, "aws_dynamodb_table", "name", f"merchants-{s}")
    events = _arn(stack, "aws_dynamodb_table", "name", f"payment-events-{s}")
    mac_key = next(
        stack.reference_of("aws_kms_key", k, "arn")
        for k in stack.resources("aws_kms_key").values()
        if k.get("key_usage") == "GENERATE_VERIFY_MAC"
    )
    queue = _arn(stack, "aws_sqs_queue", "name", f"payment-processing-{s}")
    claims = _arn(stack, "aws_dynamodb_table", "name", f"batch-payment-claims-{s}")
    give_up_bucket = _bucket_arn(stack, "payment-start-give-ups-")
    file_dlq = _arn(stack, "aws_sqs_queue", "name", f"batch-file-dlq-{s}")
    batch_state_machine = _batch_state_machine_arn(stack)
    topic = _arn(stack, "aws_sns_topic", "name", f"payment-status-{s}")
    state_machine = _arn(stack, "aws_sfn_state_machine", "name", f"payment-workflow-{s}")
    bucket = _bucket_arn(stack, "payment-batch-")
    log_group = _arn(stack, "aws_cloudwatch_log_group", "name", f"/aws/lambda/{_function_name(stack, function)}")

    common = {(action, f"{log_group}:*") for action in LOGS}
    common.add(("kms:Decrypt", key))  # environment variables are encrypted with the CMK
    if config_for(_environment(stack)).xray_tracing:
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
        },
        "event_writer": {
            # EventStore.put: one conditional PutItem per event.
            ("dynamodb:PutItem", events),
            # The stream event source mapping reads the audit table's stream as this role; a given-up
            # batch goes to the outbox's give-up bucket.
            *_stream_consumer(audit, give_up_bucket, key),
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


def _partition(stack: SynthesizedStack) -> str:
    (partition,) = stack.document["data"]["aws_partition"]  # aws, aws-us-gov or aws-cn
    return f"${{data.aws_partition.{partition}.partition}}"


def _workflow_executions(stack: SynthesizedStack) -> str:
    """The payment workflow's execution ARNs: ``arn:<partition>:states:<region>:<account>:execution:<name>:*``,
    partition, region and account as the stack writes every ARN it builds (the batch state machine's)."""
    partition_region_account = _batch_state_machine_arn(stack).split(":stateMachine:")[0]
    machine = stack.named("aws_sfn_state_machine", "name", f"payment-workflow-{_suffix(stack)}")
    name = stack.reference_of("aws_sfn_state_machine", machine, "name")
    return f"{partition_region_account}:execution:{name}:*"


def _batch_state_machine_arn(stack: SynthesizedStack) -> str:
    """Built from the state machine's name in the stack (its definition names batch_ingest, so
    batch_ingest cannot reference the resource); checked to be exactly that name's ARN."""
    ingest = stack.named("aws_lambda_function", "function_name", _function_name(stack, "batch_ingest"))
    arn = str(ingest["environment"]["variables"]["BATCH_STATE_MACHINE_ARN"])
    assert arn.endswith(f":stateMachine:batch-file-{_suffix(stack)}") and arn.startswith(
        f"arn:{_partition(stack)}:states:"
    )
    return arn


def _batch_file_state_machine_grants(stack: SynthesizedStack) -> set[tuple[str, str]]:
    s = _suffix(stack)
    function = _arn(stack, "aws_lambda_function", "function_name", f"payment-batch-ingest-{s}")
    bucket = _bucket_arn(stack, "payment-batch-")
    key = stack.reference_of("aws_kms_key", platform_key(stack), "arn")
    machine = _batch_state_machine_arn(stack)
    executions = machine.replace(":stateMachine:", ":execution:") + "/*"
    expected = {
        ("lambda:InvokeFunction", function),
        ("lambda:InvokeFunction", f"{function}:*"),
        # The map's ItemReader reads the chunk descriptors (SSE-KMS).
        ("s3:GetObject", f"{bucket}/batch-work/*"),
        # The map's ResultWriter writes the children's results under the same prefix (multipart).
        *{
            (action, f"{bucket}/batch-work/*")
            for action in ("s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload")
        },
        ("kms:Decrypt", key),
        ("kms:GenerateDataKey", key),  # the machine's own data (and the map's results) are encrypted with the key
        # A Distributed Map runs each item as a child execution of the same state machine.
        ("states:StartExecution", machine),
        ("states:DescribeExecution", executions),
        ("states:StopExecution", executions),
    }
    return expected | {(action, "*") for action in STATE_MACHINE_WILDCARD_ACTIONS}


def _state_machine_grants(stack: SynthesizedStack) -> set[tuple[str, str]]:
    s = _suffix(stack)
    function = _arn(stack, "aws_lambda_function", "function_name", f"payment-workflow-{s}")
    invoke = {("lambda:InvokeFunction", function), ("lambda:InvokeFunction", f"{function}:*")}
    key = stack.reference_of("aws_kms_key", platform_key(stack), "arn")
    encryption = {("kms:Decrypt", key), ("kms:GenerateDataKey", key)}  # the machine's own data is encrypted
    # A state machine role is the one that needs the "*"-only actions: log delivery and X-Ray.
    return invoke | encryption | {(action, "*") for action in STATE_MACHINE_WILDCARD_ACTIONS}


def _function_name(stack: SynthesizedStack, function: str) -> str:
    return f"payment-{function.replace('_', '-')}-{_suffix(stack)}"


def _grants_of_role(stack: SynthesizedStack, role_reference: str) -> set[tuple[str, str]]:
    return grants(role_policy_documents(stack)[role_id(role_reference)])


def _readable(pairs: set[tuple[str, str]]) -> list[str]:
    return sorted(f"{action} on {resource}" for action, resource in pairs)


@pytest.mark.parametrize(
    "function",
    ["api", "workflow", "batch_ingest", "queue_consumer", "authorizer", "workflow_starter", "sweeper", "event_writer"],
)
def test_each_function_role_grants_exactly_what_its_handler_calls(env_stack: SynthesizedStack, function: str) -> None:
    lambda_function = env_stack.named("aws_lambda_function", "function_name", _function_name(env_stack, function))
    granted = _grants_of_role(env_stack, lambda_function["role"])
    expected = _function_grants(env_stack, function)
    # Left: granted but never called. Right: called but not granted.
    assert (_readable(granted - expected), _readable(expected - granted)) == ([], [])


def _state_machine(stack: SynthesizedStack, base: str) -> dict[str, Any]:
    return stack.named("aws_sfn_state_machine", "name", f"{base}-{_suffix(stack)}")


@pytest.mark.parametrize(
    ("base", "expected_of"),
    [("payment-workflow", _state_machine_grants), ("batch-file", _batch_file_state_machine_grants)],
)
def test_state_machine_role_grants_what_it_runs(env_stack: SynthesizedStack, base: str, expected_of: Any) -> None:
    granted = _grants_of_role(env_stack, _state_machine(env_stack, base)["role_arn"])
    expected = expected_of(env_stack)
    assert (_readable(granted - expected), _readable(expected - granted)) == ([], [])


def test_the_sweeper_schedule_may_invoke_only_the_sweeper(env_stack: SynthesizedStack) -> None:
    schedule = env_stack.only("aws_scheduler_schedule")
    sweeper = _arn(env_stack, "aws_lambda_function", "function_name", _function_name(env_stack, "sweeper"))
    function = env_stack.named("aws_lambda_function", "function_name", _function_name(env_stack, "sweeper"))
    assert schedule["target"]["arn"] == env_stack.live_reference(function, "arn")
    granted = _grants_of_role(env_stack, schedule["target"]["role_arn"])
    assert granted == {("lambda:InvokeFunction", sweeper), ("lambda:InvokeFunction", f"{sweeper}:*")}


def test_every_role_is_one_of_the_eleven_judged_above(env_stack: SynthesizedStack) -> None:
    judged = {role_id(f["role"]) for f in env_stack.resources("aws_lambda_function").values()}
    judged |= {role_id(m["role_arn"]) for m in env_stack.resources("aws_sfn_state_machine").values()}
    judged |= {role_id(env_stack.only("aws_scheduler_schedule")["target"]["role_arn"])}
    assert set(env_stack.resources("aws_iam_role")) == judged
    assert len(judged) == 11  # eight functions, two state machines, the sweeper's schedule


def test_no_identity_policy_has_wildcards_or_managed_full_access(env_stack: SynthesizedStack) -> None:
    violations = {
        role: problems
        for role, documents in role_policy_documents(env_stack).items()
        for problems in [[p for d in documents for p in identity_policy_violations(d)]]
        if problems
    }
    assert violations == {}
    broad = [
        arn for arn in managed_policy_arns(env_stack) if "FullAccess" in arn or arn.endswith("AdministratorAccess")
    ]
    assert broad == []
    # Today no managed policy is attached at all: every grant is an inline, reviewed statement.
    assert managed_policy_arns(env_stack) == []
    for role in env_stack.resources("aws_iam_role").values():
        assert "inline_policy" not in role


def test_roles_are_assumable_only_by_their_service(env_stack: SynthesizedStack) -> None:
    for role in env_stack.resources("aws_iam_role").values():
        (statement,) = statements(env_stack.policy_document(role["assume_role_policy"]))
        assert statement["actions"] == ["sts:AssumeRole"]
        (principal,) = statement["principals"]
        assert principal["type"] == "Service"
        assert principal["identifiers"] in (
            ["lambda.amazonaws.com"],
            ["states.amazonaws.com"],
            ["scheduler.amazonaws.com"],
        )


def test_key_policy_never_grants_kms_wildcard_or_outside_the_account(env_stack: SynthesizedStack) -> None:
    policy = env_stack.policy_document(platform_key(env_stack)["policy"])
    (caller_identity,) = env_stack.document["data"]["aws_caller_identity"]
    account_root = f"arn:{_partition(env_stack)}:iam::${{data.aws_caller_identity.{caller_identity}.account_id}}:root"
    for statement in statements(policy):
        assert not {"*", "kms:*"} & set(statement["actions"]), statement["sid"]
        for principal in statement["principals"]:
            assert principal["identifiers"] != ["*"], statement["sid"]
            if principal["type"] == "AWS":
                assert principal["identifiers"] == [account_root], statement["sid"]
            else:
                # Services act on the key only for this account's resources.
                assert principal["type"] == "Service" and statement.get("condition"), statement["sid"]
    # Only the account administers the key; services may only use it.
    admin = [s for s in statements(policy) if any(p["type"] == "AWS" for p in s["principals"])]
    assert [s["sid"] for s in admin] == ["AccountAdministers"]
    use_only = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}
    for statement in statements(policy):
        if statement["sid"] != "AccountAdministers":
            assert set(statement["actions"]) <= use_only, statement["sid"]


def test_bucket_policy_only_denies(env_stack: SynthesizedStack) -> None:
    for policy in env_stack.resources("aws_s3_bucket_policy").values():
        assert [s["effect"] for s in statements(env_stack.policy_document(policy["policy"]))] == ["Deny"]
