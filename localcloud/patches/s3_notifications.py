"""S3 → Lambda notifications delivered asynchronously, with the full AWS record shape.

moto 5.2.5 does fire ``s3:ObjectCreated:*`` notifications to Lambda natively
(``moto/s3/notifications.py`` ``send_event`` → ``_invoke_awslambda``), honouring the
prefix/suffix filter, but it calls the function synchronously inside the PutObject request
(the uploader waits for the handler) and swallows every error. On AWS, S3 invokes Lambda
asynchronously (``InvocationType=Event``: retried twice on function error).

This patch routes the notification through the async path of
``localcloud.patches.lambda_runtime`` and completes the record with the fields moto omits
(``userIdentity``, ``requestParameters``, ``responseElements``, ``s3.object.sequencer``).
It also fixes the key encoding: moto uses ``quote_plus(key)``, which turns ``/`` into
``%2F``; AWS form-encodes the key but keeps ``/`` (``incoming/day+1.csv``).

And it adds ``s3.object.versionId``, which moto leaves out (``_get_s3_event`` writes only key,
size and eTag). AWS: "versionId: object version if bucket is versioning-enabled, otherwise
null" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html);
the batch workflow names its execution after the object version, so an event without it would
name a different job than AWS does.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any
from urllib.parse import quote_plus, unquote_plus


def complete_record(record: dict[str, Any]) -> dict[str, Any]:
    record.setdefault("userIdentity", {"principalId": "AWS:LOCALCLOUD"})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault(
        "responseElements",
        {"x-amz-request-id": "LOCALCLOUD", "x-amz-id-2": "LOCALCLOUD"},
    )
    s3_object = record.get("s3", {}).get("object", {})
    s3_object.setdefault("sequencer", f"{time.time_ns():016X}")
    if "key" in s3_object:
        s3_object["key"] = quote_plus(unquote_plus(s3_object["key"]), safe="/")
    return record


def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    from moto.awslambda.utils import get_backend

    from localcloud.patches.lambda_runtime import submit_async

    try:
        fn = get_backend(account_id, region_name).get_function(fn_arn)
    except Exception as exc:
        print(f"localcloud: S3 notification to {fn_arn} dropped: {exc}", file=sys.stderr)
        return
    for record in event_body.get("Records", []):
        complete_record(record)
    submit_async(fn, json.dumps(event_body))


def _with_version_id(original: Any) -> Any:
    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event: dict[str, Any] = original(event_name, bucket, key, notification_id)
        version_id = getattr(key, "version_id", None)
        if getattr(bucket, "is_versioned", False) and version_id and version_id != "null":
            for record in event.get("Records", []):
                record["s3"]["object"]["versionId"] = version_id
        return event

    return get_s3_event


def apply() -> None:
    from moto.s3 import notifications

    notifications._invoke_awslambda = _invoke_awslambda
    notifications._get_s3_event = _with_version_id(notifications._get_s3_event)
