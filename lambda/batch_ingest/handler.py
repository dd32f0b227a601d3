"""S3 ObjectCreated on ``incoming/*.csv``: queue each valid row, report the rest.

A job record per object version (bucket, key, versionId or ETag) makes a re-delivered
event a no-op once the file completed.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote_plus

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_core import environment as env
from payment_core.batch import RejectionReport, job_id_for, report_key_for
from payment_core.batch_jobs import BatchJob, BatchJobs
from payment_core.ingest import ingest_csv
from payment_core.lazy import Lazy
from payment_core.models import utc_now
from payment_core.queue_sender import BatchingQueueSender
from payment_core.settings import BusinessRules, required
from payment_core.tracing import TRACED_MODULES

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb: Lazy[Any] = Lazy(lambda: boto3.client("dynamodb"))
s3: Lazy[Any] = Lazy(lambda: boto3.client("s3"))
sqs: Lazy[Any] = Lazy(lambda: boto3.client("sqs"))
rules: Lazy[BusinessRules] = Lazy(lambda: BusinessRules.from_env(os.environ))


@tracer.capture_method
def ingest_object(record: S3EventRecord) -> dict[str, Any]:
    bucket = record.s3.bucket.name
    key = unquote_plus(record.s3.get_object.key)  # S3 events carry the key URL-encoded
    etag = record.s3.get_object.etag
    version_id = record.s3.get_object.version_id
    job = BatchJob(job_id_for(bucket, key, version_id or etag), bucket, key, etag)
    logger.append_keys(batch_job_id=job.job_id, s3_key=key)
    jobs = BatchJobs(dynamodb.get(), required(env.BATCH_JOBS_TABLE_NAME))
    if not jobs.begin(job, utc_now()):
        logger.info("batch file already processed; ignoring the re-delivered event")
        return {"job_id": job.job_id, "key": key, "state": "ALREADY_COMPLETED"}

    version = {"VersionId": version_id} if version_id else {}
    body = s3.get().get_object(Bucket=bucket, Key=key, **version)["Body"]
    sender = BatchingQueueSender(sqs.get(), required(env.PAYMENT_QUEUE_URL))
    report = RejectionReport()
    try:
        counts = ingest_csv(body.read, rules.get(), job.job_id, sender, report)
        report_key = report_key_for(key) if counts.rejected else None
        if report_key is not None:
            s3.get().put_object(Bucket=bucket, Key=report_key, Body=report.rewind(), ContentType="text/csv")
    finally:
        report.close()
        body.close()
    jobs.finish(job.job_id, counts, report_key, utc_now())
    metrics.add_metric(name="BatchRowsQueued", unit=MetricUnit.Count, value=counts.queued)
    metrics.add_metric(name="BatchRowsRejected", unit=MetricUnit.Count, value=counts.rejected)
    logger.info("batch file processed", extra=counts.__dict__)
    return {
        "job_id": job.job_id,
        "key": key,
        "state": "COMPLETED",
        "rows": counts.rows,
        "queued": counts.queued,
        "rejected": counts.rejected,
        "report_key": report_key,
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    return {"jobs": [ingest_object(record) for record in event.records]}
