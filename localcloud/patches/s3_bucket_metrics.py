"""S3 request-metrics configurations (``aws_s3_bucket_metric``), which moto 5.2.5 does not know.

moto's bucket handlers have no ``?metrics`` branch: PutBucketMetricsConfiguration falls through
to CreateBucket and GetBucketMetricsConfiguration to ListObjects, so the provider cannot read
back what it wrote. Patched as the S3 API reference says ("PutBucketMetricsConfiguration",
"GetBucketMetricsConfiguration", "DeleteBucketMetricsConfiguration"): the configuration is
kept per bucket under its ``id`` (the ``<Id>`` of the body must equal it), read back as written,
and a missing one is 404 ``NoSuchConfiguration``. The metrics themselves are not emulated (no
CloudWatch data points): the stack's alarm on them is proven by synth tests only.
"""

from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"<Id>([^<]*)</Id>")


def _configurations(response: Any, bucket_name: str) -> dict[str, str]:
    bucket = response.backend.get_bucket(bucket_name)  # NoSuchBucket as S3 answers it
    found: dict[str, str] = bucket.__dict__.setdefault("localcloud_metrics_configurations", {})
    return found


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return status, {}, body


def _not_found() -> tuple[int, dict[str, str], str]:
    return _error(404, "NoSuchConfiguration", "The specified configuration does not exist.")


def apply() -> None:
    from moto.s3.responses import S3Response

    original_get = S3Response._bucket_response_get
    original_put = S3Response._bucket_response_put
    original_delete = S3Response._bucket_response_delete

    def get(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "metrics" not in querystring:
            return original_get(self, bucket_name, querystring)
        configurations = _configurations(self, bucket_name)
        if "id" not in querystring:
            listed = "".join(configurations[key] for key in sorted(configurations))
            listing = f"<IsTruncated>false</IsTruncated>{listed}"
            return 200, {}, f"<ListMetricsConfigurationsResult>{listing}</ListMetricsConfigurationsResult>"
        stored = configurations.get(querystring["id"][0])
        return (200, {}, stored) if stored is not None else _not_found()

    def put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "metrics" not in querystring:
            return original_put(self, request, bucket_name, querystring)
        configurations = _configurations(self, bucket_name)
        body = self.body.decode() if isinstance(self.body, bytes) else str(self.body or "")
        identifier = (querystring.get("id") or [""])[0]
        declared = _ID.search(body)
        if not identifier or declared is None or declared.group(1) != identifier:
            return _error(400, "InvalidArgument", "The Id of the configuration must equal the id parameter")
        configurations[identifier] = re.sub(r"^<\?xml[^>]*>\s*", "", body)
        return 200, {}, ""

    def delete(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
        if "metrics" not in querystring:
            return original_delete(self, bucket_name, querystring)
        configurations = _configurations(self, bucket_name)
        if configurations.pop((querystring.get("id") or [""])[0], None) is None:
            return _not_found()
        return 204, {}, ""

    S3Response._bucket_response_get = get  # type: ignore[method-assign]
    S3Response._bucket_response_put = put  # type: ignore[method-assign]
    S3Response._bucket_response_delete = delete  # type: ignore[method-assign]
