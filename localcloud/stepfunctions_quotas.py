"""Step Functions quotas the emulator enforces, and the route a test uses to scale them down.

* ``payload_limit_bytes``: the "maximum input or output size for a task, state, or execution",
  262,144 bytes (``localcloud.patches.stepfunctions_payload``). Only ever lowered, never raised
  above AWS's value, so a scale model (a few hundred chunks standing for ~19,000) can show what
  happens past the limit without a file of AWS's size; the emulator stays as strict as AWS.

``GET /localcloud/stepfunctions`` answers the current values; ``POST`` with a JSON object of the
fields to change sets them (400 with the exact reason for a bad value); ``{"reset": true}``
restores AWS's values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

ROUTE: Final = "/localcloud/stepfunctions"
AWS_PAYLOAD_LIMIT_BYTES: Final = 262_144


class QuotaConfigError(ValueError):
    pass


@dataclass
class StepFunctionsQuotas:
    payload_limit_bytes: int = AWS_PAYLOAD_LIMIT_BYTES

    def describe(self) -> dict[str, Any]:
        return {"payload_limit_bytes": self.payload_limit_bytes}

    def update(self, document: Any) -> None:
        if not isinstance(document, dict) or set(document) - {"payload_limit_bytes", "reset"}:
            raise QuotaConfigError('expected an object with "payload_limit_bytes" and/or "reset"')
        if document.get("reset") is True:
            self.payload_limit_bytes = AWS_PAYLOAD_LIMIT_BYTES
        if "payload_limit_bytes" in document:
            limit = document["payload_limit_bytes"]
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= AWS_PAYLOAD_LIMIT_BYTES:
                raise QuotaConfigError(
                    f"payload_limit_bytes must be an integer from 1 to {AWS_PAYLOAD_LIMIT_BYTES} "
                    f"(AWS's quota; the emulator is never more lenient), got {limit!r}"
                )
            self.payload_limit_bytes = limit


QUOTAS = StepFunctionsQuotas()


def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            QUOTAS.update(json.loads(environ["wsgi.input"].read(length) or b"{}"))
        except ValueError as error:  # a QuotaConfigError or JSON that does not parse
            return _json(start_response, "400 Bad Request", {"message": str(error)})
    return _json(start_response, "200 OK", QUOTAS.describe())


def _json(start_response: Callable[..., Any], status: str, document: Any) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
