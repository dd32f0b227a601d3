"""S3 ObjectCreated on ``incoming/*.csv``: queue each valid row, report the rest.

A job record per object version (bucket, key, versionId or ETag) makes a re-delivered
event a no-op once the file completed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_core.batch import RejectionReport, job_id_for, report_key_for
from payment_core.batch_jobs import BatchJob
from payment_core.ingest import ingest_csv
from payment_core.models import utc_now
from payment_core.runtime import BatchIngestRuntime

runtime = BatchIngestRuntime()


@runtime.tracer.capture_method
def ingest_object(record: S3EventRecord) -> dict[str, Any]:
    bucket = record.s3.bucket.name
    key = unquote_plus(record.s3.get_object.key)  # S3 events carry the key URL-encoded
    etag = record.s3.get_object.etag
    version_id = record.s3.get_object.version_id
    job = BatchJob(job_id_for(bucket, key, version_id or etag), bucket, key, etag)
    runtime.logger.append_keys(batch_job_id=job.job_id, s3_key=key)
    jobs = runtime.batch_jobs()
    if not jobs.begin(job, utc_now()):
        runtime.logger.info("batch file already processed; ignoring the re-delivered event")
        return {"job_id": job.job_id, "key": key, "state": "ALREADY_COMPLETED"}

    s3 = runtime.s3()
    read = (
        s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)
        if version_id
        else s3.get_object(Bucket=bucket, Key=key)
    )
    body = read["Body"]
    report = RejectionReport()
    try:
        counts = ingest_csv(body.read, runtime.environment().rules, job.job_id, runtime.queue_sender(), report)
        report_key = report_key_for(key) if counts.rejected else None
        if report_key is not None:
            s3.put_object(Bucket=bucket, Key=report_key, Body=report.rewind(), ContentType="text/csv")
    finally:
        report.close()
        body.close()
    jobs.finish(job.job_id, counts, report_key, utc_now())
    runtime.count("BatchRowsQueued", counts.queued)
    runtime.count("BatchRowsRejected", counts.rejected)
    runtime.logger.info("batch file processed", extra=counts.__dict__)
    return {
        "job_id": job.job_id,
        "key": key,
        "state": "COMPLETED",
        "rows": counts.rows,
        "queued": counts.queued,
        "rejected": counts.rejected,
        "report_key": report_key,
    }


@runtime.handler()
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    return {"jobs": [ingest_object(record) for record in event.records]}
