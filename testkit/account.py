"""The account the handlers touch, per docs/architecture.md: tables (keys and index from the
contract), the processing queue and its DLQ, the status topic, the batch bucket and a
state machine. Built through any clients: in-process moto (``mock_aws``) or an endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
from payment_core import contract
from payment_core.payments.repository import from_attributes

from testkit.environment import ACCOUNT_ID, AWS_CREDENTIALS, HANDLER_ENVIRONMENT, REGION, TABLES

BUCKET = "payment-batch-test"
# Onboarded (ACTIVE) in every account: the merchants the tests' and benchmarks' batch rows name
# (merchant-0 .. merchant-9), each with the API key "key-of-<merchant>-padded-to-twenty".
ACTIVE_MERCHANTS = tuple(f"merchant-{n}" for n in range(10))


@dataclass(frozen=True)
class AwsClients:
    dynamodb: Any
    stepfunctions: Any
    sqs: Any
    sns: Any
    s3: Any
    kms: Any

    @classmethod
    def of(cls, session: boto3.Session, endpoint: str | None = None) -> AwsClients:
        return cls(
            dynamodb=session.client("dynamodb", endpoint_url=endpoint),
            stepfunctions=session.client("stepfunctions", endpoint_url=endpoint),
            sqs=session.client("sqs", endpoint_url=endpoint),
            sns=session.client("sns", endpoint_url=endpoint),
            s3=session.client("s3", endpoint_url=endpoint),
            kms=session.client("kms", endpoint_url=endpoint),
        )


def setup_session() -> boto3.Session:
    """A session of its own for setting the account up (so a call counter on the handlers' skips it)."""
    return boto3.Session(
        aws_access_key_id=AWS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )


def key_schema(key: contract.KeySchema) -> list[dict[str, str]]:
    """DynamoDB's KeySchema for one of the contract's keys."""
    return [
        {"AttributeName": attribute.name, "KeyType": kind}
        for attribute, kind in zip(key.attributes, ("HASH", "RANGE"), strict=False)
    ]


def create_table(
    dynamodb: Any,
    variable: str,
    *,
    indexes: dict[str, tuple[contract.KeySchema, str]] | None = None,
    **extra: Any,
) -> None:
    """The table the contract's ``variable`` names, keyed as the contract (and so the stack) keys it;
    ``indexes`` maps each GSI's name to its key and projection type."""
    key = contract.TABLE_KEYS[variable]
    schemas = [key, *(index for index, _ in (indexes or {}).values())]
    attributes = dict.fromkeys((each.name, each.type) for schema in schemas for each in schema.attributes)
    if indexes:
        extra["GlobalSecondaryIndexes"] = [
            {"IndexName": name, "KeySchema": key_schema(index), "Projection": {"ProjectionType": projection}}
            for name, (index, projection) in indexes.items()
        ]
    dynamodb.create_table(
        TableName=TABLES[variable],
        BillingMode="PAY_PER_REQUEST",
        KeySchema=key_schema(key),
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in attributes],
        **extra,
    )


def create_tables(dynamodb: Any) -> None:
    create_table(
        dynamodb,
        contract.PAYMENTS_TABLE_NAME,
        indexes={
            contract.MERCHANT_TIME_INDEX: (contract.MERCHANT_TIME_INDEX_KEY, contract.MERCHANT_TIME_INDEX_PROJECTION),
            contract.OPEN_PAYMENTS_INDEX: (contract.OPEN_PAYMENTS_INDEX_KEY, contract.OPEN_PAYMENTS_INDEX_PROJECTION),
        },
        # The outbox, as the stack declares it: new payments' keys start their workflows.
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    # The events' source, as the stack declares it: each transition with the payment after it.
    create_table(
        dynamodb, contract.AUDIT_TABLE_NAME, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )
    # Webhooks fan out from the events table's stream, as the stack declares it.
    create_table(
        dynamodb, contract.EVENTS_TABLE_NAME, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )
    done = {contract.PAYMENTS_TABLE_NAME, contract.AUDIT_TABLE_NAME, contract.EVENTS_TABLE_NAME}
    for variable in sorted(contract.TABLE_KEYS.keys() - done):
        create_table(dynamodb, variable)


def _queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


@dataclass(frozen=True)
class Account(AwsClients):
    """The clients that made the resources, their names, and reads the tests assert on."""

    queue_url: str
    dlq_url: str
    topic_arn: str
    topic_probe_url: str  # a queue subscribed to the status topic
    state_machine_arn: str
    batch_state_machine_arn: str
    page_token_key_id: str  # the HMAC_256 KMS key that signs list tokens
    platform_key_id: str  # the symmetric KMS key webhook signing secrets are sealed under
    webhook_queue_url: str  # one message per (event, endpoint) delivery
    bucket: str = BUCKET
    handlers: dict[str, ModuleType] = field(default_factory=dict)  # loaded on these clients
    _relayed: list[str] = field(default_factory=list)  # stream sequence numbers already relayed

    def table(self, variable: str) -> str:
        """The name of the table the contract's ``variable`` names (e.g. ``contract.PAYMENTS_TABLE_NAME``)."""
        return TABLES[variable]

    def handler_environment(self, endpoint: str | None = None) -> dict[str, str]:
        """Every variable any handler reads, for this account (and its endpoint, if not in-process)."""
        environment = {
            **HANDLER_ENVIRONMENT,
            contract.PAYMENT_QUEUE_URL: self.queue_url,
            contract.STATUS_TOPIC_ARN: self.topic_arn,
            contract.STATE_MACHINE_ARN: self.state_machine_arn,
            contract.BATCH_STATE_MACHINE_ARN: self.batch_state_machine_arn,
            contract.PAGE_TOKEN_KEY_ID: self.page_token_key_id,
            contract.WEBHOOK_SECRET_KEY_ID: self.platform_key_id,
            contract.WEBHOOK_QUEUE_URL: self.webhook_queue_url,
        }
        if endpoint:
            environment["AWS_ENDPOINT_URL"] = endpoint
        return environment

    def payments(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=self.table(contract.PAYMENTS_TABLE_NAME), ConsistentRead=True)["Items"]
        return [from_attributes(item) for item in items]

    def audit(self, payment_id: str) -> list[dict[str, Any]]:
        items = self.dynamodb.query(
            TableName=self.table(contract.AUDIT_TABLE_NAME),
            KeyConditionExpression="payment_id = :p",
            ExpressionAttributeValues={":p": {"S": payment_id}},
        )["Items"]
        return [from_attributes(item) for item in items]

    def outbox_records(self) -> list[dict[str, Any]]:
        """Every record on the payments table's stream (the outbox), oldest first."""
        return self.stream_records(contract.PAYMENTS_TABLE_NAME)

    def stream_records(self, variable: str) -> list[dict[str, Any]]:
        """Every record on the stream of the table ``variable`` names, oldest first, as the
        event source mapping delivers them.

        Read from moto's in-process backend: in ``mock_aws`` botocore's URL for the streams API
        is routed to the DynamoDB handler, which does not know ``DescribeStream``.
        """
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(self.table(variable))
        shard = table.stream_shard
        assert shard is not None, f"the table of {variable} has its stream on (create_tables)"
        from localcloud.patches.dynamodb_streams import record_as_delivered

        arn = str(table.describe()["TableDescription"]["LatestStreamArn"])
        return [record_as_delivered(item, arn, REGION) for item in shard.items]

    def outbox_inserts(self) -> list[str]:
        """The payment ids of the stream's INSERT records: one per payment the outbox will start."""
        return [r["dynamodb"]["Keys"]["payment_id"]["S"] for r in self.outbox_records() if r["eventName"] == "INSERT"]

    def relay_outbox(self, context: Any) -> Any:
        """What the stream's event source mapping does: new INSERT records to workflow_starter."""
        fresh = [
            record
            for record in self.outbox_records()
            if record["eventName"] == "INSERT" and record["dynamodb"]["SequenceNumber"] not in self._relayed
        ]
        self._relayed.extend(record["dynamodb"]["SequenceNumber"] for record in fresh)
        event = {"Records": [{**record, "eventSourceARN": "arn:aws:dynamodb:stream"} for record in fresh]}
        return self.handlers[contract.WORKFLOW_STARTER].handler(event, context)

    def executions(self) -> list[dict[str, Any]]:
        executions: list[dict[str, Any]] = self.stepfunctions.list_executions(stateMachineArn=self.state_machine_arn)[
            "executions"
        ]
        return executions

    def execution_inputs(self) -> list[dict[str, Any]]:
        describe = self.stepfunctions.describe_execution
        return [json.loads(describe(executionArn=e["executionArn"])["input"]) for e in self.executions()]

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message now in the queue, deleted as read."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def onboard_merchants(clients: AwsClients, merchant_ids: tuple[str, ...]) -> None:
    from payment_core.tenancy.merchants import MerchantDirectory

    directory = MerchantDirectory(clients.dynamodb, TABLES[contract.MERCHANTS_TABLE_NAME])
    for merchant_id in merchant_ids:
        directory.onboard(merchant_id, "standard", f"key-of-{merchant_id}-padded-to-twenty", f"kid-{merchant_id}")


def _placeholder_state_machine(clients: AwsClients, name: str) -> str:
    """A state machine the handlers start executions of; tests drive the steps themselves."""
    created = clients.stepfunctions.create_state_machine(
        name=name,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
    )
    return str(created["stateMachineArn"])


def create_account(clients: AwsClients) -> Account:
    create_tables(clients.dynamodb)
    onboard_merchants(clients, ACTIVE_MERCHANTS)
    sqs = clients.sqs
    dlq_url = sqs.create_queue(QueueName="payment-dlq-test")["QueueUrl"]
    redrive = {"deadLetterTargetArn": _queue_arn(sqs, dlq_url), "maxReceiveCount": "3"}
    queue_url = sqs.create_queue(QueueName="payment-queue-test", Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    topic_arn = clients.sns.create_topic(Name="payment-status-test")["TopicArn"]
    probe_url = sqs.create_queue(QueueName="status-probe")["QueueUrl"]
    clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=_queue_arn(sqs, probe_url))
    clients.s3.create_bucket(Bucket=BUCKET)
    page_token_key = clients.kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    platform_key = clients.kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")
    return Account(
        **vars(clients),
        page_token_key_id=page_token_key["KeyMetadata"]["KeyId"],
        platform_key_id=platform_key["KeyMetadata"]["KeyId"],
        webhook_queue_url=sqs.create_queue(QueueName="webhook-deliveries-test")["QueueUrl"],
        queue_url=queue_url,
        dlq_url=dlq_url,
        topic_arn=topic_arn,
        topic_probe_url=probe_url,
        state_machine_arn=_placeholder_state_machine(clients, "payment-workflow-test"),
        batch_state_machine_arn=_placeholder_state_machine(clients, "batch-file-test"),
    )
