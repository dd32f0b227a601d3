"""batch_ingest against moto, end to end through its handler: the S3 event starts one execution
per object version; the steps that execution runs (plan, each chunk, finish) are then invoked
as the batch state machine invokes them. Exact counts, report, queue contents, re-delivery."""

from __future__ import annotations

import json

import pytest
from payment_core import contract
from payment_core.batch.rows import job_id_for

from testkit.events import CSV_HEADER as HEADER
from testkit.events import MIXED_CSV, s3_event

# Full-width forms (U+FF01-FF5E) are ASCII + 0xFEE0: written so, the source stays ASCII.
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def upload(aws, key: str, data: bytes) -> dict:
    etag = aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data)["ETag"].strip('"')
    return s3_event(aws.bucket, key, etag)


def ingest(aws, context, event):
    """What S3 and then the batch state machine do with the handler; the final step's answers."""
    handler = aws.handlers["batch_ingest"].handler
    started = handler(event, context)["jobs"]
    results = []
    for job in started:
        execution = next(
            e
            for e in aws.stepfunctions.list_executions(stateMachineArn=aws.batch_state_machine_arn)["executions"]
            if e["name"] == job["job_id"]
        )
        file_input = json.loads(aws.stepfunctions.describe_execution(executionArn=execution["executionArn"])["input"])
        plan = handler({"step": "plan", "file": file_input, "execution": execution["name"]}, context)
        if plan["state"] != "RUNNING":
            results.append(plan | {"job_id": job["job_id"], "started": job["state"]})
            continue
        manifest = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=plan["manifest_key"])["Body"].read())
        for item in manifest:
            handler({"step": "chunk", "file": file_input, "chunk": item}, context)
        finished = handler({"step": "finish", "file": file_input}, context)
        results.append(finished | {"job_id": job["job_id"], "started": job["state"]})
    return results


def queued(aws) -> list[dict]:
    return sorted((json.loads(m["Body"]) for m in aws.drain(aws.queue_url)), key=lambda m: m["row_number"])


def report(aws, key: str) -> str:
    return aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read().decode()


def job(aws, job_id: str) -> dict:
    return aws.dynamodb.get_item(TableName=aws.table(contract.BATCH_JOBS_TABLE_NAME), Key={"job_id": {"S": job_id}})[
        "Item"
    ]


MIXED = MIXED_CSV


def test_mixed_file_queues_good_rows_and_reports_the_rest(aws, context):
    event = upload(aws, "incoming/day-1.csv", MIXED.encode())

    result = ingest(aws, context, event)

    job_id = job_id_for(aws.bucket, "incoming/day-1.csv", event["Records"][0]["s3"]["object"]["eTag"])
    assert result == [
        {
            "job_id": job_id,
            "started": "STARTED",
            "state": "COMPLETED",
            "chunks": 4,  # 12 reader steps (the blank line is one) in chunks of 3
            "rows": 11,
            "queued": 3,
            "rejected": 8,
            "report_key": "reports/day-1.errors.csv",
        }
    ]
    base = {"batch_job_id": job_id}
    assert queued(aws) == [
        base
        | {
            "payment_id": "p-001",
            "merchant_id": "merchant-1",
            "amount": "10.00",
            "currency": "USD",
            "customer_ref": "cust-1",
            "row_number": 2,
        },
        base
        | {
            "payment_id": "p-003",
            "merchant_id": "merchant-2",
            "amount": "7.50",
            "currency": "EUR",
            "customer_ref": "ref, with comma",
            "row_number": 4,
        },
        base
        | {
            "payment_id": "p-009",
            "merchant_id": "merchant-1",
            "amount": "1000",
            "currency": "JPY",
            "customer_ref": "cust-9",
            "row_number": 11,
        },
    ]
    assert report(aws, "reports/day-1.errors.csv").splitlines() == [
        "row_number,reason",
        '3,"amount: amount must be a plain decimal string such as ""10.50"""',
        '5,"amount: amount must be a plain decimal string such as ""10.50"""',
        '6,"currency: currency must be one of EUR, GBP, JPY, USD"',
        "7,payment_id: payment_id must be 1 to 64 characters of A-Z a-z 0-9 _ -",
        "8,payment_id: duplicate of row 2",
        '9,"expected 5 fields, got 4"',
        "12,amount: amount has more than 2 decimal places for USD",
        "13,customer_ref: customer_ref must be printable text without surrounding whitespace",
    ]
    record = job(aws, job_id)
    timestamps = ("started_at", "finished_at", "execution_name")
    assert {k: next(iter(v.values())) for k, v in record.items() if k not in timestamps} == {
        "job_id": job_id,
        "bucket": aws.bucket,
        "key": "incoming/day-1.csv",
        "etag": event["Records"][0]["s3"]["object"]["eTag"],
        "state": "COMPLETED",
        "chunks": "4",
        "chunks_done": "4",
        "rows": "11",
        "queued": "3",
        "rejected": "8",
        "report_key": "reports/day-1.errors.csv",
    }


def test_redelivered_event_does_not_queue_the_file_twice(aws, context):
    event = upload(aws, "incoming/again.csv", f"{HEADER}\np-1,merchant-1,1.00,USD,c\n".encode())
    assert ingest(aws, context, event)[0]["queued"] == 1
    # moto's placeholder execution never ends by itself; this one's file is done, so end it.
    [execution] = aws.stepfunctions.list_executions(stateMachineArn=aws.batch_state_machine_arn)["executions"]
    aws.stepfunctions.stop_execution(executionArn=execution["executionArn"])
    # S3 delivers the event again: the execution's name is taken, so nothing starts.
    assert aws.handlers["batch_ingest"].handler(event, context)["jobs"][0]["state"] == "ALREADY_STARTED"
    assert len(aws.stepfunctions.list_executions(stateMachineArn=aws.batch_state_machine_arn)["executions"]) == 1
    assert len(queued(aws)) == 1


def test_clean_file_has_no_report_and_versioned_objects_are_read_by_version(aws, context):
    aws.s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
    put = aws.s3.put_object(
        Bucket=aws.bucket, Key="incoming/sub dir/v.csv", Body=f"{HEADER}\np-1,merchant-1,1.00,USD,c\n".encode()
    )
    event = s3_event(aws.bucket, "incoming/sub dir/v.csv", put["ETag"].strip('"'), put["VersionId"])
    aws.s3.put_object(Bucket=aws.bucket, Key="incoming/sub dir/v.csv", Body=b"overwritten")

    [result] = ingest(aws, context, event)

    assert (result["rows"], result["queued"], result["rejected"], result["report_key"]) == (1, 1, 0, None)
    assert result["job_id"] == job_id_for(aws.bucket, "incoming/sub dir/v.csv", put["VersionId"])
    assert "report_key" not in job(aws, result["job_id"])


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"", '1,"file is empty; header must be payment_id,merchant_id,amount,currency,customer_ref"'),
        (b"id,amount\np-1,1\n", '1,"header must be payment_id,merchant_id,amount,currency,customer_ref"'),
    ],
)
def test_missing_or_wrong_header_rejects_the_file(aws, context, data, line):
    [result] = ingest(aws, context, upload(aws, "incoming/h.csv", data))
    assert (result["rows"], result["queued"], result["rejected"]) == (0, 0, 1)
    assert report(aws, "reports/h.errors.csv").splitlines() == ["row_number,reason", line]
    assert queued(aws) == []


def test_undecodable_and_oversized_rows_are_rejected_not_fatal(aws, context):
    data = (
        f"{HEADER}\n".encode()
        + b"p-1,merchant-1,1.00,USD,caf\xe9\n"
        + b'p-2,merchant-1,1.00,USD,"'
        + b"x" * 140_000
        + b'"\n'
        + b"p-3,merchant-1,1.00,USD,ok\n"
    )
    [result] = ingest(aws, context, upload(aws, "incoming/u.csv", data))
    lines = report(aws, "reports/u.errors.csv").splitlines()
    assert lines[1] == "2,row is not valid UTF-8"
    assert lines[2].startswith("3,malformed CSV: field larger than field limit")
    assert [m["payment_id"] for m in queued(aws)] == ["p-3"]
    assert (result["rows"], result["queued"], result["rejected"]) == (3, 1, 2)


def test_garbled_header_line_is_reported(aws, context):
    data = b'"' + b"h" * 140_000 + b'"\n'
    [result] = ingest(aws, context, upload(aws, "incoming/g.csv", data))
    assert report(aws, "reports/g.errors.csv").splitlines()[1].startswith("1,malformed CSV header")
    assert result["rejected"] == 1


def test_rows_must_name_an_active_merchant_and_carry_no_card_number(aws, context):
    """Batch files are an operator path (issue #11): unknown or disabled merchants and card
    numbers are reported, never queued; the report names only a card's last four digits.
    Five rows in chunks of 3: the rules hold in every chunk worker, not only the first."""
    from payment_core.tenancy.merchants import MerchantDirectory, MerchantStatus

    MerchantDirectory(aws.dynamodb, aws.table(contract.MERCHANTS_TABLE_NAME)).set_status(
        "merchant-3", MerchantStatus.DISABLED
    )
    rows = [
        "t-1,merchant-1,10.00,USD,cust-1",
        "t-2,merchant-unknown,10.00,USD,cust-2",
        "t-3,merchant-3,10.00,USD,cust-3",
        "t-4,merchant-1,10.00,USD,card 4111-1111-1111-1111",
        "t-5,merchant-3,10.00,USD,cust-5",
    ]
    event = upload(aws, "incoming/tenants.csv", "\n".join([HEADER, *rows]).encode())

    [result] = ingest(aws, context, event)

    assert (result["chunks"], result["queued"], result["rejected"]) == (2, 1, 4)
    assert [m["payment_id"] for m in queued(aws)] == ["t-1"]
    assert report(aws, "reports/tenants.errors.csv").splitlines() == [
        "row_number,reason",
        "3,merchant_id: merchant-unknown is not an active merchant",
        "4,merchant_id: merchant-3 is not an active merchant",
        "5,customer_ref: customer_ref looks like a card number (ending 1111); send a tokenized reference instead",
        "6,merchant_id: merchant-3 is not an active merchant",
    ]


def test_card_numbers_in_rows_are_found_however_they_are_written(aws, context):
    rows = [
        "t-1,merchant-1,10.00,USD," + "4111111111111111".translate(FULL_WIDTH),
        "t-2,merchant-1,10.00,USD,4111.1111.1111.1111",
        "t-3,merchant-1,10.00,USD,4111/1111/1111/1111",
        "t-4,merchant-1,10.00,USD,invoice 2024/118",
    ]
    event = upload(aws, "incoming/dodges.csv", "\n".join([HEADER, *rows]).encode())

    [result] = ingest(aws, context, event)

    assert (result["queued"], result["rejected"]) == (1, 3)
    assert [(m["payment_id"], m["customer_ref"]) for m in queued(aws)] == [("t-4", "invoice 2024/118")]
    reason = "customer_ref: customer_ref looks like a card number (ending 1111); send a tokenized reference instead"
    assert report(aws, "reports/dodges.errors.csv").splitlines() == [
        "row_number,reason",
        *(f"{row},{reason}" for row in (2, 3, 4)),
    ]
