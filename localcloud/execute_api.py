"""Serve deployed REST APIs over HTTP from the emulator (moto does not, in server mode).

``{endpoint}/restapis/{api_id}/{stage}/_user_request_/{path}`` (the URL shape LocalStack
uses) is answered by ``localcloud.triggers.invoke_rest_api``; every other request goes to
moto unchanged. ``local_invoke_url`` turns an API id and stage into that base URL, the local
counterpart of a stage's ``invoke_url``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

USER_REQUEST = re.compile(r"^/restapis/(?P<api_id>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")


def local_invoke_url(endpoint: str, api_id: str, stage: str) -> str:
    return f"{endpoint.rstrip('/')}/restapis/{api_id}/{stage}/_user_request_"


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    # API Gateway passes x-api-key through in lower case; keep the client's key findable.
    if "X-Api-Key" in headers:
        headers["x-api-key"] = headers.pop("X-Api-Key")
    return headers


class ExecuteApiMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], endpoint: Callable[[], str]) -> None:
        self._app = app
        self._endpoint = endpoint

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = USER_REQUEST.match(environ.get("PATH_INFO", ""))
        if match is None:
            return self._app(environ, start_response)
        from localcloud.triggers import invoke_rest_api

        length = int(environ.get("CONTENT_LENGTH") or 0)
        # The bytes as sent: whether they reach the function as text or base64 is API Gateway's
        # decision (the API's binary media types), made by invoke_rest_api, never a 500 here.
        body = environ["wsgi.input"].read(length) if length else None
        # PATH_INFO is percent-decoded (bytes as latin-1): a ``%23`` or ``%3F`` inside a path parameter
        # must stay in that parameter, not start a fragment or a query when invoke_rest_api splits the
        # URL (``/payments/%23x`` is payment ``#x``, as API Gateway routes it).
        decoded = (match.group("path") or "/").encode("latin-1").decode("utf-8", errors="replace")
        path = quote(decoded, safe="/")
        if environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        response = invoke_rest_api(
            self._endpoint(),
            match.group("api_id"),
            match.group("stage"),
            environ["REQUEST_METHOD"],
            path,
            body=body,
            headers=_request_headers(environ),
        )
        payload = response.body.encode("utf-8")
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{response.status_code} {HTTPStatus(response.status_code).phrase}", headers)
        return [payload]
