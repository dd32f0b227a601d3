"""Batch files and the queue: every row queued or reported; poison ends in the DLQ."""

from __future__ import annotations

import json
import time

from testkit.deployment import StackDeployment
from testkit.events import s3_event
from testkit.fault_switch import fault_switch
from testkit.scenarios import BATCH_EXPECTED_FINAL, BATCH_EXPECTED_REJECTED, BATCH_ROWS
from testkit.traffic import PlatformClient


def test_batch_file_is_queued_reported_and_settled(platform: PlatformClient) -> None:
    rows = [(f"e2e-{pid}", *rest) for pid, *rest in BATCH_ROWS]
    key = platform.upload_batch("e2e-batch.csv", rows)
    job = platform.wait_for_batch(key)
    assert (job.rows, job.queued, job.rejected) == (len(rows), len(BATCH_EXPECTED_FINAL), BATCH_EXPECTED_REJECTED)
    assert job.report is not None
    report_lines = job.report.strip().splitlines()
    assert report_lines[0] == "row_number,reason"
    assert [line.split(",")[0] for line in report_lines[1:]] == ["5", "6", "7", "8"]  # the header is row 1
    expected = {f"e2e-{pid}": status for pid, status in BATCH_EXPECTED_FINAL.items()}
    finals = platform.wait_for_final(list(expected))
    assert {pid: (item or {}).get("status") for pid, item in finals.items()} == expected
    # The file ran as one execution named after its job, its rows on a Distributed Map.
    run = platform.map_run(job.job_id)
    assert (run["status"], run["failed"]) == ("SUCCEEDED", 0)
    assert run["batches"] == run["succeeded"] >= 1


def test_a_redelivered_event_and_a_reupload_queue_nothing_twice(platform: PlatformClient) -> None:
    rows = [("e2e-again-1", "merchant-e2e", "1.00", "USD", "cust-again")]
    key = platform.upload_batch("e2e-again.csv", rows)
    first = platform.wait_for_batch(key)
    # Counted once the first delivery's payment exists, so only a second one could change it.
    assert platform.wait_for_final(["e2e-again-1"])["e2e-again-1"] is not None
    before = platform.count_payments()
    bucket = platform.outputs["batch_bucket_name"]
    s3 = platform.client("s3")
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    # S3 delivers the same event again (at least once): the execution's name is taken.
    event = s3_event(bucket, key, s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"'), version)
    answer = platform.client("lambda").invoke(
        FunctionName=platform.outputs["batch_ingest_function_name"], Payload=json.dumps(event).encode()
    )
    assert json.loads(answer["Payload"].read())["jobs"][0]["state"] == "ALREADY_STARTED"
    # The same bytes uploaded again: a new object version, so a new job, whose row another
    # file already queued: reported, not queued.
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, MetadataDirective="REPLACE")
    deadline = time.monotonic() + 60
    again = None
    while time.monotonic() < deadline:
        jobs = [job for job in platform.batch_jobs(key) if job.job_id != first.job_id and job.state == "COMPLETED"]
        if jobs:
            (again,) = jobs
            break
        time.sleep(0.5)
    assert again is not None
    assert (again.rows, again.queued, again.rejected) == (1, 0, 1)
    assert again.report is not None and "payment_id: already queued from incoming/e2e-again.csv row 2" in again.report
    platform.wait_for_final(["e2e-again-1"])
    assert platform.count_payments() == before


def test_under_send_and_read_faults_every_row_becomes_one_payment(
    platform: PlatformClient, deployment: StackDeployment
) -> None:
    """The deployed per-file workflow with the functions' SendMessageBatch and GetObject calls
    throttled: the file completes, every row is counted queued once and becomes one payment.
    (A queued copy would be absorbed by the consumer's conditional create, so copies on the
    queue itself are counted in tests/localcloud/test_batch_file_faults.py, which drains it.)"""
    rows = [(f"e2e-fault-{n:02d}", "merchant-e2e", f"{n}.00", "USD", f"cust-{n}") for n in range(1, 31)]
    before = platform.count_payments()
    # Seed 10 fails the first call of each key (the n-th call fails iff
    # Random(f"{seed}|{key}|{n}") < rate, localcloud/faults.py), so the run cannot pass untouched.
    fault_switch(deployment.endpoint, {"seed": 10, "rates": {"sqs:SendMessageBatch": 0.3, "s3:GetObject": 0.3}})
    try:
        key = platform.upload_batch("e2e-faults.csv", rows)
        job = platform.wait_for_batch(key, timeout=240)
    finally:
        status = fault_switch(deployment.endpoint)
        fault_switch(deployment.endpoint, {})
    print(f"\nbatch faults: failed {status['failed']} of calls {status['calls']}")
    assert status["failed"].get("sqs:SendMessageBatch", 0) >= 1
    assert status["failed"].get("s3:GetObject", 0) >= 1
    assert (job.rows, job.queued, job.rejected) == (30, 30, 0)
    finals = platform.wait_for_final([row[0] for row in rows])
    assert all(item is not None for item in finals.values())
    assert platform.count_payments() == before + 30


def test_poison_message_is_retried_then_dead_lettered(platform: PlatformClient) -> None:
    sqs = platform.client("sqs")
    queue_url = platform.outputs["payment_queue_url"]
    original = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    # Shortened out-of-band so maxReceiveCount redeliveries take seconds, not 3 x 180 s;
    # restored below so the no-drift check still compares the deployed configuration.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "2"})
    try:
        sqs.send_message(QueueUrl=queue_url, MessageBody="this is not a batch row")
        deadline = time.monotonic() + 90
        while platform.queue_depth("payment_dlq_url") == 0 and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=original)
    assert platform.queue_depth("payment_dlq_url") == 1
    (message,) = sqs.receive_message(
        QueueUrl=platform.outputs["payment_dlq_url"], AttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert message["Body"] == "this is not a batch row"
    dlq_name = platform.outputs["payment_dlq_url"].rsplit("/", 1)[-1]
    (alarm,) = platform.client("cloudwatch").describe_alarms(AlarmNames=["payment-dlq-not-empty-e2e"])["MetricAlarms"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": dlq_name}]
    assert alarm["AlarmActions"] == [platform.outputs["alarm_topic_arn"]]
