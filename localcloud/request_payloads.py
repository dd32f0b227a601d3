"""How API Gateway hands a REST request's body and query string to a Lambda proxy integration.

"In API Gateway, the API request and response have a text or binary payload. A text payload is a
UTF-8-encoded JSON string" (developer guide, "Binary media types for REST APIs"): a body whose
``Content-Type`` is not in the API's ``binaryMediaTypes`` is converted to text, and bytes that are
not UTF-8 become U+FFFD (``EF BF BD``), as observed on AWS by those who sent binary uploads to an
API without binary media types; one that matches arrives base64-encoded, ``isBase64Encoded: true``.
Query parameters keep their empty values, and a repeated one is its last value in
``queryStringParameters`` and all its values in ``multiValueQueryStringParameters``.
Evidence and the tests on both sides: localcloud/README.md ("API Gateway's front").
"""

from __future__ import annotations

import base64
import fnmatch
from typing import Any


def binary_media(apigw: Any, api_id: str, content_type: str | None) -> bool:
    """Whether ``content_type`` is one of the API's binary media types (``*`` wildcards allowed)."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    patterns = apigw.get_rest_api(restApiId=api_id).get("binaryMediaTypes") or []
    return any(fnmatch.fnmatchcase(media_type, pattern.lower()) for pattern in patterns)


def proxy_body(body: str | bytes | None, binary: bool) -> tuple[str | None, bool]:
    """The event's ``body`` and ``isBase64Encoded`` for the request body as sent."""
    if body is None or body == b"":
        return None, False
    raw = body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else body
    if binary:
        return base64.b64encode(raw).decode("ascii"), True
    return raw.decode("utf-8", errors="replace"), False


def multi_values(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped
