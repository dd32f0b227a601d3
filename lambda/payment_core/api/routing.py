"""The api function's routes, dispatched on the route API Gateway already matched.

API Gateway (REST, Lambda proxy integration) matches every request against the API's
resources and methods, which the stack builds from ``api_contract.ROUTES``, before it invokes
the function: a request for no resource or method never reaches it. The proxy event names the
match: ``resource`` is the resource's path template (``/payments/{payment_id}``), ``httpMethod``
its method, ``pathParameters`` the template's variables. So a route is a dictionary entry keyed
by ``(method, resource)``, and the function does not match paths a second time.

Why not Powertools' ``APIGatewayRestResolver`` (which routes again, on the request's path):
importing it loads the ``aws_lambda_powertools.event_handler`` package, whose ``__init__``
imports every resolver (AppSync, Bedrock agents, VPC Lattice, ...) and with them asyncio and
every event data class, none of which this function uses. Measured on python3.12 with the
shipped bytecode (``make bench``, cold start; docs/lambda-runtime.md): ~40 ms of the api
handler's import, about 0.2x of ``import boto3``, beyond the 1.5x the cold start is held to.
Logger, Metrics and Tracer stay Powertools'.

The answer has the shape Powertools gave it (and API Gateway reads): ``multiValueHeaders``,
a compact JSON body, ``isBase64Encoded`` false.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from payment_core.errors import DomainError

ProxyAnswer = dict[str, Any]
Route = Callable[["ApiRequest"], ProxyAnswer]

JSON_CONTENT_TYPE: Final = "application/json"


class NoSuchRoute(DomainError):
    """The event names a resource and method the API does not have: never from API Gateway, whose
    resources are built from the same routes; from a misrouted test event or a deployment whose
    API and function disagree."""


@dataclass(frozen=True)
class ApiRequest:
    """What the routes read of one API Gateway REST proxy event (payload format 1.0)."""

    method: str
    resource: str
    path_parameters: Mapping[str, str]
    headers: Mapping[str, str]  # as the client wrote their names: read them with api.requests.header
    query: Mapping[str, str]
    body: str | None
    body_is_base64: bool
    request_context: Mapping[str, Any]
    request_id: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any], request_id: str) -> ApiRequest:
        return cls(
            method=str(event.get("httpMethod") or ""),
            resource=str(event.get("resource") or ""),
            path_parameters=event.get("pathParameters") or {},
            headers=event.get("headers") or {},
            query=event.get("queryStringParameters") or {},
            body=event.get("body"),
            body_is_base64=bool(event.get("isBase64Encoded")),
            request_context=event.get("requestContext") or {},
            request_id=request_id,
        )

    def path_parameter(self, name: str) -> str:
        """A variable of the matched resource's template; API Gateway always sends every one of them."""
        value = self.path_parameters.get(name)
        if value is None:
            raise NoSuchRoute(f"{self.method} {self.resource} has no path parameter {name}")
        return value


class Routes:
    """The function's routes by ``(method, resource)``: each is registered once."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Route] = {}

    def route(self, method: str, resource: str) -> Callable[[Route], Route]:
        def register(function: Route) -> Route:
            if (method, resource) in self._routes:
                raise ValueError(f"route {method} {resource} is registered twice")
            self._routes[(method, resource)] = function
            return function

        return register

    def get(self, resource: str) -> Callable[[Route], Route]:
        return self.route("GET", resource)

    def post(self, resource: str) -> Callable[[Route], Route]:
        return self.route("POST", resource)

    def delete(self, resource: str) -> Callable[[Route], Route]:
        return self.route("DELETE", resource)

    @property
    def keys(self) -> frozenset[tuple[str, str]]:
        """Every ``(method, resource)`` served: ``api_contract.ROUTES``'s, as a test holds them."""
        return frozenset(self._routes)

    def find(self, request: ApiRequest) -> Route:
        route = self._routes.get((request.method, request.resource))
        if route is None:
            raise NoSuchRoute("no such resource")
        return route


def _decimal_as_string(value: object) -> str:
    """A number read back from DynamoDB (a ``Decimal``) is written exactly, as a string, as
    Powertools' encoder wrote it; anything else JSON cannot hold is an error (a 500)."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_answer(status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> ProxyAnswer:
    """The proxy integration's answer: a compact JSON body and its headers, one value each."""
    multi_value_headers = {"Content-Type": [JSON_CONTENT_TYPE]} | {name: [value] for name, value in headers.items()}
    return {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":"), default=_decimal_as_string),
        "isBase64Encoded": False,
        "multiValueHeaders": multi_value_headers,
    }
