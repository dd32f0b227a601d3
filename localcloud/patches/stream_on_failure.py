"""Where Lambda sends a stream batch it gave up on: the mapping's on-failure destination.

As AWS does it (Lambda developer guide, "Retain discarded records for a DynamoDB event source
in Lambda"): each record sent is a JSON document of metadata about the failed invocation
(``requestContext``, ``responseContext``, ``DDBStreamBatchInfo``: the shard and the sequence
range); to an SQS queue or SNS topic only that, to an S3 bucket also "the entire invocation
record" (``payload``: the event the function was given). Lambda delivers as the function's
execution role, which needs ``sqs:SendMessage`` / ``sns:Publish``, or ``s3:PutObject`` and
``s3:ListBucket``; the S3 object is named
``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>``. A record
that cannot be delivered (the role lacks the permission, the destination is gone) is lost:
Lambda only counts it in the function's ``DestinationDeliveryFailures`` metric.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

# Delivery failures per function ARN: what the DestinationDeliveryFailures metric would count.
DELIVERY_FAILURES: dict[str, int] = {}


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _arrival(record: dict[str, Any]) -> str:
    seconds = record["dynamodb"].get("ApproximateCreationDateTime")
    moment = datetime.fromtimestamp(float(seconds), UTC) if seconds is not None else datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def failure_record(
    esm: Any, records: list[dict[str, Any]], condition: str, shard_id: str, attempts: int, moment: datetime
) -> dict[str, Any]:
    """The invocation record's metadata, as every destination type receives it."""
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": esm.function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": _timestamp(moment),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _arrival(records[0]),
            "approximateArrivalOfLastRecord": _arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": esm.event_source_arn,
        },
    }


def s3_object_key(esm_uuid: str, shard_id: str, moment: datetime) -> str:
    return f"aws/lambda/{esm_uuid}/{shard_id}/{moment:%Y/%m/%d}/{moment:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"


def _role_allows(role_arn: str, action: str, resource: str) -> bool:
    """The role's inline and attached policies allow ``action`` on ``resource`` (an explicit Deny wins)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.models import iam_backends

    _, partition, _, _, account, _ = role_arn.split(":", 5)
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:
        return False
    documents: list[Any] = [*role.policies.values(), *role.managed_policies.values()]
    results = [IAMPolicy(document).is_action_permitted(action, resource) for document in documents]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


def _deliver_to_s3(role: str, destination: str, key: str, body: dict[str, Any]) -> str | None:
    """Put the record into the bucket as ``role``; the reason it could not, or None."""
    from moto.s3.models import s3_backends

    bucket_name = destination.split(":", 5)[5]
    for action, resource in (
        ("s3:ListBucket", destination),
        ("s3:PutObject", f"{destination}/{key}"),
    ):
        if not _role_allows(role, action, resource):
            return f"{role} is not authorized to perform {action} on {resource}"
    _, partition, _, _, account, _ = role.split(":", 5)
    backend = s3_backends[account][partition]
    try:
        bucket = backend.get_bucket(bucket_name)
    except Exception:
        return f"bucket {bucket_name} does not exist"
    # The bucket's default encryption applies, as to any PutObject without its own headers.
    default = ((bucket.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault") or {}
    backend.put_object(
        bucket_name,
        key,
        json.dumps(body).encode(),
        encryption=default.get("SSEAlgorithm"),
        kms_key_id=default.get("KMSMasterKeyID"),
    )
    return None


def _deliver_to_sqs(role: str, destination: str, body: dict[str, Any]) -> str | None:
    from moto.sqs.models import sqs_backends

    if not _role_allows(role, "sqs:SendMessage", destination):
        return f"{role} is not authorized to perform sqs:SendMessage on {destination}"
    _, _, _, region, account, queue_name = destination.split(":", 5)
    sqs_backends[account][region].send_message(queue_name, json.dumps(body))
    return None


def send_to_on_failure_destination(
    esm: Any, role: str, records: list[dict[str, Any]], condition: str, shard_id: str, attempts: int
) -> None:
    """Deliver a given-up batch to the mapping's on-failure destination, as ``role`` (the function's)."""
    destination = ((getattr(esm, "destination_config", None) or {}).get("OnFailure") or {}).get("Destination", "")
    moment = datetime.now(UTC)
    body = failure_record(esm, records, condition, shard_id, attempts, moment)
    service = destination.split(":")[2:3]
    if service == ["s3"]:
        # Only an S3 destination receives the batch itself (the event the function was given).
        body["payload"] = {"Records": records}
        problem = _deliver_to_s3(role, destination, s3_object_key(esm.uuid, shard_id, moment), body)
    elif service == ["sqs"]:
        problem = _deliver_to_sqs(role, destination, body)
    else:
        problem = f"no on-failure destination emulated for {destination or 'none'}"
    if problem is not None:
        DELIVERY_FAILURES[esm.function_arn] = DELIVERY_FAILURES.get(esm.function_arn, 0) + 1
        print(f"localcloud: stream batch of {esm.uuid} given up ({condition}) and lost: {problem}", file=sys.stderr)
