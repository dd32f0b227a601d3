"""Read-backs the Terraform provider compares against, fixed in localcloud.patches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import make_zip


def test_redrive_policy_reads_back_as_compact_json(aws: Callable[[str], Any], unique: str) -> None:
    sqs = aws("sqs")
    dlq = sqs.create_queue(QueueName=f"dead-{unique}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}, separators=(",", ":"))
    queue = sqs.create_queue(QueueName=f"live-{unique}", Attributes={"RedrivePolicy": policy})["QueueUrl"]

    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]

    assert attributes["RedrivePolicy"] == policy


def test_lambda_dead_letter_config_is_kept_and_updated(aws: Callable[[str], Any], role_arn: str, unique: str) -> None:
    lam = aws("lambda")
    target = f"arn:aws:sqs:us-east-1:123456789012:dlq-{unique}"
    lam.create_function(
        FunctionName=f"dlq-{unique}",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": "def handler(e, c):\n    return 1\n"})},
        DeadLetterConfig={"TargetArn": target},
    )

    assert lam.get_function(FunctionName=f"dlq-{unique}")["Configuration"]["DeadLetterConfig"] == {"TargetArn": target}
    lam.update_function_configuration(FunctionName=f"dlq-{unique}", DeadLetterConfig={})
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName=f"dlq-{unique}")


def test_api_gateway_resource_path_part_can_be_updated(aws: Callable[[str], Any], unique: str) -> None:
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name=f"upd-{unique}")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="payments")["id"]

    updated = apigw.update_resource(
        restApiId=api_id,
        resourceId=resource,
        patchOperations=[{"op": "replace", "path": "/pathPart", "value": "payment-list"}],
    )

    assert updated["path"] == "/payment-list"
    assert apigw.get_resource(restApiId=api_id, resourceId=resource)["pathPart"] == "payment-list"


def test_bucket_metrics_configuration_reads_back_and_deletes(aws: Callable[[str], Any], unique: str) -> None:
    s3 = aws("s3")
    bucket = f"metrics-{unique}"
    s3.create_bucket(Bucket=bucket)
    configuration = {"Id": "give-ups", "Filter": {"Prefix": "aws/lambda/"}}

    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="give-ups", MetricsConfiguration=configuration)
    read = s3.get_bucket_metrics_configuration(Bucket=bucket, Id="give-ups")["MetricsConfiguration"]
    s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="give-ups")

    assert read == configuration
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_metrics_configuration(Bucket=bucket, Id="give-ups")
    assert missing.value.response["Error"]["Code"] == "NoSuchConfiguration"
    with pytest.raises(ClientError) as mismatched:
        s3.put_bucket_metrics_configuration(Bucket=bucket, Id="other", MetricsConfiguration=configuration)
    assert mismatched.value.response["Error"]["Code"] == "InvalidArgument"
