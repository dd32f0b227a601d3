"""REST API: create, fetch and list payments; capture or void a manual one; refund a captured one;
fetch and list the caller's events; register, read, delete and rotate the caller's webhook endpoints.

Parsing lives in ``payment_core.api.requests``, business logic in ``payment_core.payments.submission``
and every error's HTTP answer in the table of ``payment_core.api.errors``; this module wires
them to the routes API Gateway matched (``payment_core.api.routing``, which says why it is not
Powertools' resolver).

What only some routes use (capture and void, refunds, the lists and their page tokens, the
events, the webhook endpoints) is imported by those routes, on first use: a cold start that serves
``POST /payments`` or ``GET /payments/{id}`` does not load it (``make bench``, cold start: this
module's import against ``import boto3``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payment_core import contract
from payment_core.api.errors import error_body, http_error_for
from payment_core.api.requests import (
    api_version,
    parse_capture,
    parse_create_payment,
    parse_create_refund,
    parse_payment_id,
    parse_refund_id,
    parse_void,
    served_version,
)
from payment_core.api.routing import ApiRequest, ProxyAnswer, Routes, json_answer
from payment_core.errors import EventNotFound, PaymentNotFound
from payment_core.payments.submission import accept_api_payment
from payment_core.payments.wiring import PaymentsEnvironment, PaymentsRuntime
from payment_core.rules import BusinessRules
from payment_core.settings import EventsEnvironment, positive_int, reads, variable
from payment_core.tenancy.callers import merchant_api_version, verified_merchant

if TYPE_CHECKING:
    from payment_core.api.page_tokens import KeyRing, PageQuery, PageTokens
    from payment_core.events.store import EventStore
    from payment_core.payments.capture import CaptureRequests, StepFunctionsWaker
    from payment_core.webhooks.endpoints import Endpoints


@dataclass(frozen=True)
class ApiEnvironment(PaymentsEnvironment, EventsEnvironment):
    """Stores new payments (their stream records start the workflows), checked against the rules;
    also the key that signs list page tokens."""

    rules: BusinessRules = field(metadata=reads(BusinessRules.read))
    page_token_key_id: str = field(metadata=variable(contract.PAGE_TOKEN_KEY_ID))
    page_token_key_version: int = field(metadata=positive_int(contract.PAGE_TOKEN_KEY_VERSION))
    page_token_previous_key_id: str = field(
        metadata=reads(lambda variables: variables.optional(contract.PAGE_TOKEN_PREVIOUS_KEY_ID))
    )
    webhook_secret_key_id: str = field(metadata=variable(contract.WEBHOOK_SECRET_KEY_ID))
    webhook_secret_overlap_seconds: int = field(metadata=positive_int(contract.WEBHOOK_SECRET_OVERLAP_SECONDS))


runtime = PaymentsRuntime(contract.API, ApiEnvironment)
routes = Routes()


def _page_token_keys() -> KeyRing:
    """The current MAC key signs; the previous version's (if any) still verifies its tokens."""
    from payment_core.api.page_tokens import KeyRing, KmsMac  # list routes only (module docstring)

    env = runtime.environment()
    previous = KmsMac(runtime.kms(), env.page_token_previous_key_id) if env.page_token_previous_key_id else None
    return KeyRing(env.page_token_key_version, KmsMac(runtime.kms(), env.page_token_key_id), previous)


def _page_tokens() -> PageTokens:
    from payment_core.api.page_tokens import PageTokens  # list routes only (module docstring)

    return PageTokens(page_token_keys())


def _event_page_tokens() -> PageTokens:
    from payment_core.api.page_tokens import EVENT_PAGE_KEY_FIELDS, PageTokens  # list routes only

    return PageTokens(page_token_keys(), key_fields=EVENT_PAGE_KEY_FIELDS)


def _event_store() -> EventStore:
    from payment_core.events.store import EventStore  # event routes only (module docstring)

    return EventStore(runtime.dynamodb(), runtime.environment().events_table)


# One key ring for both kinds of list token: built once per execution environment.
page_token_keys = runtime.cached(_page_token_keys)
page_tokens = runtime.cached(_page_tokens)
event_page_tokens = runtime.cached(_event_page_tokens)
event_store = runtime.cached(_event_store)


def _capture_requests() -> CaptureRequests:
    from payment_core.payments import capture  # capture and void only (module docstring)

    return capture.CaptureRequests(runtime.dynamodb(), runtime.environment().payment_tables.payments)


def _endpoints() -> Endpoints:
    from payment_core.webhooks.endpoints import Endpoints, EndpointStore, SecretBox  # webhook routes only

    return Endpoints(
        EndpointStore(runtime.dynamodb(), runtime.environment().events_table),
        SecretBox(runtime.kms(), runtime.environment().webhook_secret_key_id),
        runtime.environment().webhook_secret_overlap_seconds,
    )


def _waker() -> StepFunctionsWaker:
    from payment_core.payments import capture  # capture and void only (module docstring)

    return capture.StepFunctionsWaker(runtime.stepfunctions())


capture_requests = runtime.cached(_capture_requests)
endpoints = runtime.cached(_endpoints)
waker = runtime.cached(_waker)


def _merchant_default_version(request: ApiRequest) -> str | None:
    return merchant_api_version(request.request_context)


def caller(request: ApiRequest) -> str:
    """The merchant the authorizer verified for this request (never what the client wrote), once
    the request's API version is known (an unknown one is refused before anything is read)."""
    api_version(request.headers, _merchant_default_version(request))
    merchant_id = verified_merchant(request.request_context)
    runtime.logger.append_keys(merchant_id=merchant_id)
    return merchant_id


def json_response(request: ApiRequest, status: int, body: dict[str, Any]) -> ProxyAnswer:
    """Every answer names the API version it was served with (``served_version``)."""
    served = served_version(request.headers, _merchant_default_version(request))
    return json_answer(status, body, {contract.API_VERSION_HEADER: served})


@routes.post("/payments")
@runtime.tracer.capture_method(capture_response=False)
def create_payment(request: ApiRequest) -> ProxyAnswer:
    merchant_id = caller(request)
    command = parse_create_payment(
        request.body, request.body_is_base64, request.headers, runtime.environment().rules, merchant_id
    )
    runtime.logger.append_keys(idempotency_key=command.idempotency_key)
    acceptance = accept_api_payment(runtime.payment_repository(), merchant_id, command.idempotency_key, command.request)
    if acceptance.first:
        runtime.count("PaymentAccepted")
    return json_response(request, 202, acceptance.receipt())


@routes.get("/payments/{payment_id}")
@runtime.tracer.capture_method(capture_response=False)
def get_payment(request: ApiRequest) -> ProxyAnswer:
    merchant_id = caller(request)
    payment_id = parse_payment_id(request.path_parameter("payment_id"))
    repository = runtime.payment_repository()
    payment = repository.get(payment_id)
    # Another merchant's payment is answered exactly like one that does not exist.
    if payment is None or payment.merchant_id != merchant_id:
        raise PaymentNotFound(f"payment {payment_id} does not exist")
    history = [entry.to_public() for entry in repository.history(payment_id)]
    refund_list = [refund.to_public() for refund in runtime.refund_store().get_many(payment.refund_ids)]
    return json_response(request, 200, payment.to_public() | {"history": history, "refunds": refund_list})


def _ask(request: ApiRequest, action: str, amount: object | None) -> ProxyAnswer:
    from payment_core.payments import capture  # capture and void only (module docstring)

    payment = capture.ask(
        runtime.payment_repository(),
        capture_requests(),
        waker(),
        caller(request),
        parse_payment_id(request.path_parameter("payment_id")),
        action,
        amount,
    )
    return json_response(request, 202, capture.receipt(payment))


@routes.post(f"/payments/{{payment_id}}/{contract.CAPTURE_PATH_PART}")
@runtime.tracer.capture_method(capture_response=False)
def capture_payment(request: ApiRequest) -> ProxyAnswer:
    command = parse_capture(request.body, request.body_is_base64)
    return _ask(request, contract.ACTION_CAPTURE, command.amount)


@routes.post(f"/payments/{{payment_id}}/{contract.VOID_PATH_PART}")
@runtime.tracer.capture_method(capture_response=False)
def void_payment(request: ApiRequest) -> ProxyAnswer:
    parse_void(request.body, request.body_is_base64)
    return _ask(request, contract.ACTION_VOID, None)


@routes.post(f"/payments/{{payment_id}}/{contract.REFUNDS_PATH_PART}")
@runtime.tracer.capture_method(capture_response=False)
def create_refund(request: ApiRequest) -> ProxyAnswer:
    from payment_core.payments import refunds  # refund routes only (module docstring)

    merchant_id = caller(request)
    payment_id = parse_payment_id(request.path_parameter("payment_id"))
    command = parse_create_refund(request.body, request.body_is_base64, request.headers)
    runtime.logger.append_keys(idempotency_key=command.idempotency_key)
    refund, first = refunds.request_refund(
        runtime.payment_repository(),
        runtime.refund_store(),
        merchant_id,
        payment_id,
        command.idempotency_key,
        command.amount,
        command.reason,
    )
    if first:
        runtime.count("RefundAccepted")
    return json_response(request, 202, refund.to_public())


@routes.get(f"/payments/{{payment_id}}/{contract.REFUNDS_PATH_PART}/{{refund_id}}")
@runtime.tracer.capture_method(capture_response=False)
def get_refund(request: ApiRequest) -> ProxyAnswer:
    from payment_core.payments import refunds  # refund routes only (module docstring)

    refund = refunds.read_refund(
        runtime.payment_repository(),
        runtime.refund_store(),
        caller(request),
        parse_payment_id(request.path_parameter("payment_id")),
        parse_refund_id(request.path_parameter("refund_id")),
    )
    return json_response(request, 200, refund.to_public())


@routes.get("/payments")
@runtime.tracer.capture_method(capture_response=False)
def list_payments(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.list_requests import parse_list_payments  # list routes only (module docstring)
    from payment_core.api.page_tokens import PageQuery

    query = parse_list_payments(request.query, caller(request), page_tokens())
    payments, last_key = runtime.payment_repository().list_by_merchant(
        query.merchant_id, query.created_from, query.created_to, query.limit, query.start_key
    )
    bound = PageQuery(query.merchant_id, query.created_from, query.created_to)
    return _page(request, [payment.to_public() for payment in payments], page_tokens(), bound, last_key)


@routes.get("/events/{event_id}")
@runtime.tracer.capture_method(capture_response=False)
def get_event(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.list_requests import parse_event_id  # event routes only (module docstring)

    merchant_id = caller(request)
    event_id = parse_event_id(request.path_parameter("event_id"))
    # Read under the caller's merchant: another merchant's event is not found, like a missing one.
    event = event_store().get(merchant_id, event_id)
    if event is None:
        raise EventNotFound(f"event {event_id} does not exist")
    return json_response(request, 200, event.to_public() | {"delivery_attempts": list(event.delivery_attempts)})


@routes.get("/events")
@runtime.tracer.capture_method(capture_response=False)
def list_events(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.list_requests import parse_list_events  # list routes only (module docstring)
    from payment_core.api.page_tokens import PageQuery

    query = parse_list_events(request.query, caller(request), event_page_tokens())
    events, last_key = event_store().list(
        query.merchant_id, query.created_from, query.created_to, query.event_type, query.limit, query.start_key
    )
    bound = PageQuery(query.merchant_id, query.created_from, query.created_to, query.event_type or "")
    return _page(request, [event.to_public() for event in events], event_page_tokens(), bound, last_key)


def _page(
    request: ApiRequest,
    items: list[dict[str, Any]],
    tokens: PageTokens,
    bound: PageQuery,
    last_key: Mapping[str, str] | None,
) -> ProxyAnswer:
    """A list's answer: the page's items, and the token of the next page (None after the last)."""
    next_token = tokens.issue(bound, last_key) if last_key else None
    return json_response(request, 200, {"items": items, "next_token": next_token})


@routes.post("/webhook_endpoints")
@runtime.tracer.capture_method(capture_response=False)
def create_webhook_endpoint(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.webhook_requests import parse_create_endpoint  # webhook routes only (module docstring)

    merchant_id = caller(request)
    command = parse_create_endpoint(request.body, request.body_is_base64)
    endpoint, secret = endpoints().create(merchant_id, command.url, command.enabled_events)
    runtime.count("WebhookEndpointCreated")
    return json_response(request, 201, endpoint.to_public() | {"secret": secret})


@routes.get("/webhook_endpoints")
@runtime.tracer.capture_method(capture_response=False)
def list_webhook_endpoints(request: ApiRequest) -> ProxyAnswer:
    return json_response(request, 200, {"items": [each.to_public() for each in endpoints().list(caller(request))]})


@routes.get("/webhook_endpoints/{endpoint_id}")
@runtime.tracer.capture_method(capture_response=False)
def get_webhook_endpoint(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.webhook_requests import parse_endpoint_id  # webhook routes only (module docstring)

    merchant_id = caller(request)
    endpoint_id = parse_endpoint_id(request.path_parameter("endpoint_id"))
    return json_response(request, 200, endpoints().get(merchant_id, endpoint_id).to_public())


@routes.delete("/webhook_endpoints/{endpoint_id}")
@runtime.tracer.capture_method(capture_response=False)
def delete_webhook_endpoint(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.webhook_requests import parse_endpoint_id  # webhook routes only (module docstring)

    merchant_id, endpoint_id = caller(request), parse_endpoint_id(request.path_parameter("endpoint_id"))
    endpoints().delete(merchant_id, endpoint_id)
    return json_response(request, 200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


@routes.post("/webhook_endpoints/{endpoint_id}/rotate_secret")
@runtime.tracer.capture_method(capture_response=False)
def rotate_webhook_secret(request: ApiRequest) -> ProxyAnswer:
    from payment_core.api.webhook_requests import parse_endpoint_id  # webhook routes only (module docstring)

    merchant_id = caller(request)
    rotation = endpoints().rotate(merchant_id, parse_endpoint_id(request.path_parameter("endpoint_id")))
    return json_response(
        request,
        200,
        rotation.endpoint.to_public()
        | {"secret": rotation.secret, "previous_secret_expires_at": rotation.previous_secret_expires_at},
    )


def answer_error(request: ApiRequest, error: Exception) -> ProxyAnswer:
    """Every error a route raises (and "no such route"), answered from the one table."""
    answer = http_error_for(error)
    if answer.status >= 500:
        runtime.logger.exception("unhandled error")
        return json_response(request, answer.status, error_body(error, answer, request.request_id))
    runtime.logger.info("request refused", extra={"code": answer.code, "reason": str(error)})
    return json_response(request, answer.status, error_body(error, answer))


# No response in the traces: API Gateway's proxy answer carries payments and their history.
@runtime.handler(correlation_id_path=correlation_paths.API_GATEWAY_REST, capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> ProxyAnswer:
    request = ApiRequest.from_event(event, context.aws_request_id)
    try:
        return routes.find(request)(request)
    except Exception as error:  # every error is answered from the table; a 5xx is logged with its trace
        return answer_error(request, error)
