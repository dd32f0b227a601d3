"""The outbox's give-up path keeps the whole record, apart from the payment DLQ, and alarms."""

from __future__ import annotations

from typing import Any

from lib.config import config_for
from tests.unit.synth import SynthesizedStack, key_arn
from tests.unit.test_storage import of_bucket


def _suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def _starter_mapping(stack: SynthesizedStack) -> dict[str, Any]:
    starter = stack.named("aws_lambda_function", "function_name", f"payment-workflow-starter-{_suffix(stack)}")
    arn = stack.live_reference(starter, "arn")
    (mapping,) = [m for m in stack.resources("aws_lambda_event_source_mapping").values() if m["function_name"] == arn]
    return mapping


def _give_up_bucket(stack: SynthesizedStack) -> dict[str, Any]:
    (bucket,) = [
        b for b in stack.resources("aws_s3_bucket").values() if b["bucket"].startswith("payment-start-give-ups-")
    ]
    return bucket


def _alarms(stack: SynthesizedStack) -> dict[str, dict[str, Any]]:
    return {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}


def test_a_given_up_start_goes_whole_to_its_own_bucket_not_the_payment_dlq(env_stack: SynthesizedStack) -> None:
    mapping, bucket = _starter_mapping(env_stack), _give_up_bucket(env_stack)
    dlq = env_stack.named("aws_sqs_queue", "name", f"payment-processing-dlq-{_suffix(env_stack)}")

    # An S3 destination receives the invocation record itself; an SQS one only the sequence range.
    assert mapping["destination_config"] == {
        "on_failure": {"destination_arn": env_stack.reference_of("aws_s3_bucket", bucket, "arn")}
    }
    assert env_stack.reference_of("aws_sqs_queue", dlq, "arn") not in str(mapping)
    assert bucket["bucket"].endswith(f"-{_suffix(env_stack)}")


def test_the_give_up_bucket_is_encrypted_private_and_ages_out_per_config(env_stack: SynthesizedStack) -> None:
    bucket = _give_up_bucket(env_stack)
    days = config_for(env_stack.document["provider"]["aws"][0]["default_tags"][0]["tags"]["Environment"]).queues
    (encryption,) = of_bucket(env_stack, "aws_s3_bucket_server_side_encryption_configuration", bucket)["rule"]
    (rule,) = of_bucket(env_stack, "aws_s3_bucket_lifecycle_configuration", bucket)["rule"]

    assert encryption["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": key_arn(env_stack),
    }
    assert of_bucket(env_stack, "aws_s3_bucket_public_access_block", bucket)["restrict_public_buckets"] is True
    assert rule["expiration"] == [{"days": days.start_give_up_retention_days}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": days.start_give_up_retention_days}]


def test_the_first_give_up_record_raises_its_own_alarm(dev: SynthesizedStack) -> None:
    bucket = _give_up_bucket(dev)
    metrics = of_bucket(dev, "aws_s3_bucket_metric", bucket)
    alarm = _alarms(dev)["payment-workflow-start-given-up-dev"]

    # Request metrics count PutObject under Lambda's prefix for on-failure records.
    assert (metrics["name"], metrics["filter"]) == ("starter-give-ups", {"prefix": "aws/lambda/"})
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/S3", "PutRequests", "Sum")
    assert alarm["dimensions"] == {
        "BucketName": dev.reference_of("aws_s3_bucket", bucket, "bucket"),
        "FilterId": "starter-give-ups",
    }
    assert (alarm["threshold"], alarm["comparison_operator"]) == (0, "GreaterThanThreshold")
    assert "docs/operations.md" in alarm["alarm_description"]


def test_a_give_up_record_lambda_could_not_write_alarms(dev: SynthesizedStack) -> None:
    alarm = _alarms(dev)["payment-workflow-start-give-up-undelivered-dev"]
    starter = dev.named("aws_lambda_function", "function_name", "payment-workflow-starter-dev")
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/Lambda", "DestinationDeliveryFailures")
    assert alarm["dimensions"] == {"FunctionName": dev.reference_of("aws_lambda_function", starter, "function_name")}
    assert (alarm["threshold"], alarm["comparison_operator"]) == (0, "GreaterThanThreshold")


def test_the_payment_dlq_holds_only_batch_rows_and_keeps_its_alarm(dev: SynthesizedStack) -> None:
    dlq = dev.named("aws_sqs_queue", "name", "payment-processing-dlq-dev")
    dlq_arn = dev.reference_of("aws_sqs_queue", dlq, "arn")
    # Its one writer is the processing queue's redrive; no mapping sends it anything else.
    referrers = [r for r in dev.resources("aws_lambda_event_source_mapping").values() if dlq_arn in str(r)]
    queue = dev.named("aws_sqs_queue", "name", "payment-processing-dev")
    alarm = _alarms(dev)["payment-dlq-not-empty-dev"]

    assert referrers == []
    assert dlq_arn.removeprefix("${").removesuffix("}") in queue["redrive_policy"]
    assert alarm["dimensions"] == {"QueueName": dev.reference_of("aws_sqs_queue", dlq, "name")}
