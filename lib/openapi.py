"""The API's OpenAPI 3 document, built from the one route table: ``python -m lib.openapi`` (``make openapi``).

Everything comes from what the stack and the handlers already use: the routes, parameters,
request models and answer shapes of ``payment_core.api_contract`` (API Gateway's methods and
models are built from the same table), the handler's error codes and statuses from
``payment_core.api.errors`` and API Gateway's own refusals from ``lib.gateway_responses``. It
lives under ``lib/`` because it reads both sides: the gateway's answers are the stack's, the
handler's are the Lambda package's (``lib`` may import ``payment_core``, never the reverse).

The committed copy is ``docs/openapi.json``; ``tests/unit/test_openapi.py`` fails when it is stale,
and the e2e suite runs schemathesis with it against the deployed local API.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from payment_core import api_answers, api_contract, contract
from payment_core.api.errors import HTTP_ERRORS
from payment_core.api_contract import Parameter, Route

from lib.gateway_responses import GATEWAY_ANSWERS

DOCUMENT_PATH: Final = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
# README's API section holds the routes table between these markers, written by the same command.
README_PATH: Final = DOCUMENT_PATH.parents[1] / "README.md"
TABLE_BEGIN: Final = "<!-- routes table: make openapi -->"
TABLE_END: Final = "<!-- end of routes table -->"
REGENERATE: Final = "make openapi"
OPENAPI_VERSION: Final = "3.0.3"
SECURITY_SCHEME: Final = "secretKey"

# The statuses API Gateway answers each response type with ("Gateway response types for API
# Gateway", developer guide), for the types our API can meet. DEFAULT_4XX covers the 4XX types
# not configured on their own: MISSING_AUTHENTICATION_TOKEN (403: no such route or method) and
# REQUEST_TOO_LARGE (413: over API Gateway's 10 MB payload quota); DEFAULT_5XX the integration's
# failures (502 a malformed or failed Lambda answer, 504 a timeout, 500 an Invoke Lambda refused).
GATEWAY_STATUSES: Final = MappingProxyType(
    {
        "BAD_REQUEST_BODY": (400,),
        "BAD_REQUEST_PARAMETERS": (400,),
        "UNAUTHORIZED": (401,),
        "ACCESS_DENIED": (403,),
        "INVALID_API_KEY": (403,),
        "WAF_FILTERED": (403,),
        "THROTTLED": (429,),
        "QUOTA_EXCEEDED": (429,),
        "DEFAULT_4XX": (403, 413),
        "DEFAULT_5XX": (500, 502, 504),
    }
)
# The handler codes every route may answer besides its own (a bad header, query or body; a bug).
EVERY_ROUTE_CODES: Final = ("invalid_request", "internal_error")

HANDLER_STATUSES: Final = MappingProxyType({answer.code: answer.status for answer in HTTP_ERRORS.values()})


def _route_codes(route: Route) -> dict[int, set[str]]:
    """Status → the error codes the route may answer with it (the handler's and the gateway's)."""
    codes: dict[int, set[str]] = {}
    for code in (*EVERY_ROUTE_CODES, *route.errors):
        codes.setdefault(HANDLER_STATUSES[code], set()).add(code)
    for response_type, answer in GATEWAY_ANSWERS.items():
        for status in GATEWAY_STATUSES[response_type]:
            codes.setdefault(status, set()).add(answer.code)
    return codes


def _error_schema(codes: Iterable[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(codes)},
                    "message": {"type": "string"},
                    "field": {"type": "string", "description": "the field, header or parameter at fault"},
                    "type": {"type": "string", "description": "API Gateway's response type (its own refusals)"},
                    "request_id": {"type": "string", "description": "quote it when reporting a 5xx"},
                },
            }
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _parameter(parameter: Parameter) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": parameter.name,
        "in": parameter.location,
        "required": parameter.required,
        "schema": parameter.schema,
    }
    if parameter.description:
        spec["description"] = parameter.description
    return spec


VERSION_PARAMETER: Final = Parameter(
    contract.API_VERSION_HEADER,
    "header",
    False,
    {"type": "string", "enum": list(contract.API_VERSIONS)},
    f"the API version to answer with; absent: the latest ({contract.LATEST_API_VERSION})",
)


def operation(route: Route) -> dict[str, Any]:
    success = {
        "description": "OK" if route.status < 300 else "Accepted",
        "headers": {
            contract.API_VERSION_HEADER: {
                "required": True,
                "description": "the version the answer was served with",
                "schema": {"type": "string", "enum": list(contract.API_VERSIONS)},
            }
        },
        "content": _json({"$ref": f"#/components/schemas/{route.response}"}),
    }
    responses: dict[str, Any] = {str(route.status): success}
    for status, codes in sorted(_route_codes(route).items()):
        listed = ", ".join(f"`{code}`" for code in sorted(codes))
        responses[str(status)] = {"description": listed, "content": _json(_error_schema(codes))}
    spec: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "parameters": [_parameter(each) for each in (*route.parameters, VERSION_PARAMETER)],
        "responses": responses,
    }
    if route.request_model is not None:
        spec["requestBody"] = {
            "required": True,
            "content": _json({"$ref": f"#/components/schemas/{route.request_model}"}),
        }
    if route.optional_body is not None:
        spec["requestBody"] = {
            "required": False,
            "content": _json({"$ref": f"#/components/schemas/{route.optional_body}"}),
        }
    return spec


def document(routes: Iterable[Route] = api_contract.ROUTES) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Payment platform API",
            "version": contract.LATEST_API_VERSION,
            "description": (
                "Generated by `make openapi` from payment_core.api_contract (the routes API Gateway "
                "is built from) and the error tables; do not edit. Guide: docs/api.md."
            ),
        },
        "servers": [
            {
                "url": "https://{domain}",
                "variables": {"domain": {"default": "api.example.com", "description": "output api_endpoint_url"}},
            }
        ],
        "security": [{SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": f"the merchant's secret key, `{contract.CREDENTIAL_HEADER}: Bearer sk_...`",
                }
            },
            "schemas": {
                **api_contract.REQUEST_MODELS,
                **api_contract.OPTIONAL_BODIES,
                **api_answers.RESPONSE_SCHEMAS,
            },
        },
    }


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def routes_table(spec: dict[str, Any]) -> str:
    """README's table: each route, its success status, and every error status with its codes."""
    lines = [TABLE_BEGIN, "| route | success | refusals (status: codes) |", "| --- | --- | --- |"]
    for path, operations in spec["paths"].items():
        for verb, op in operations.items():
            answers = op["responses"]
            success = next(status for status in answers if status.startswith("2"))
            refusals = "; ".join(
                f"{status}: {answers[status]['description']}" for status in answers if not status.startswith("2")
            )
            lines.append(f"| `{verb.upper()} {path}` | {success} | {refusals} |")
    return "\n".join([*lines, TABLE_END])


def with_routes_table(readme: str, spec: dict[str, Any]) -> str:
    before, _, rest = readme.partition(TABLE_BEGIN)
    _, _, after = rest.partition(TABLE_END)
    return before + routes_table(spec) + after


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed document is stale")
    args = parser.parse_args(argv)
    spec = document()
    readme = README_PATH.read_text(encoding="utf-8")
    wanted = {DOCUMENT_PATH: render(spec), README_PATH: with_routes_table(readme, spec)}
    if args.check:
        stale = [path for path, text in wanted.items() if not path.exists() or path.read_text("utf-8") != text]
        for path in stale:
            print(f"{path.name} is stale: run `{REGENERATE}` and commit it", file=sys.stderr)
        return 1 if stale else 0
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
