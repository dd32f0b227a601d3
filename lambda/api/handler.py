"""REST API: create, fetch and list payments.

Parsing lives in ``payment_core.api_requests`` and business logic in
``payment_core.submission``; this module wires them to API Gateway and maps every
error to an HTTP answer in one place (``_domain_error`` and friends below).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_core import environment as env
from payment_core.api_requests import (
    CreatePayment,
    encode_token,
    parse_create_payment,
    parse_list_payments,
    parse_payment_id,
)
from payment_core.errors import DomainError, PaymentNotFound, error_body
from payment_core.lazy import Lazy
from payment_core.models import Payment, format_timestamp, payment_id_for_idempotency_key, utc_now
from payment_core.repository import PaymentRepository
from payment_core.settings import BusinessRules, required
from payment_core.submission import StepFunctionsStarter, submit
from payment_core.tracing import TRACED_MODULES

# Read once at import (Lambda sets the environment first); the stack always sets it from
# config, the default only serves local imports without the stack's environment.
IDEMPOTENCY_TTL_SECONDS = int(os.environ.get(env.IDEMPOTENCY_TTL_SECONDS, str(24 * 60 * 60)))

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
app = APIGatewayRestResolver()

dynamodb: Lazy[Any] = Lazy(lambda: boto3.client("dynamodb"))
stepfunctions: Lazy[Any] = Lazy(lambda: boto3.client("stepfunctions"))
rules: Lazy[BusinessRules] = Lazy(lambda: BusinessRules.from_env(os.environ))

idempotency_config = IdempotencyConfig(
    event_key_jmespath="idempotency_key",
    payload_validation_jmespath="body",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
)


def repository() -> PaymentRepository:
    return PaymentRepository(dynamodb.get(), required(env.PAYMENTS_TABLE_NAME), required(env.AUDIT_TABLE_NAME))


def _accept_payment(idempotency_request: dict[str, Any], command: CreatePayment) -> dict[str, Any]:
    """Runs once per Idempotency-Key; replays get this function's stored result."""
    payment = Payment.create(
        payment_id=payment_id_for_idempotency_key(command.idempotency_key),
        request=command.request,
        source="api",
        created_at=format_timestamp(utc_now()),
    )
    starter = StepFunctionsStarter(stepfunctions.get(), required(env.STATE_MACHINE_ARN))
    stored = submit(repository(), starter, payment, command.request, actor="api")
    metrics.add_metric(name="PaymentAccepted", unit=MetricUnit.Count, value=1)
    return {"payment_id": stored.payment_id, "status": stored.status.value}


accept_payment = Lazy(
    lambda: idempotent_function(
        _accept_payment,
        data_keyword_argument="idempotency_request",
        persistence_store=DynamoDBPersistenceLayer(
            table_name=required(env.IDEMPOTENCY_TABLE_NAME), boto3_client=dynamodb.get()
        ),
        config=idempotency_config,
    )
)


def json_response(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.post("/payments")
@tracer.capture_method
def create_payment() -> Response[dict[str, Any]]:
    event = app.current_event
    command = parse_create_payment(event.body, bool(event.is_base64_encoded), event.headers, rules.get())
    logger.append_keys(idempotency_key=command.idempotency_key)
    result = accept_payment.get()(
        idempotency_request={"idempotency_key": command.idempotency_key, "body": command.body},
        command=command,
    )
    return json_response(202, result)


@app.get("/payments/<payment_id>")
@tracer.capture_method
def get_payment(payment_id: str) -> Response[dict[str, Any]]:
    payment_id = parse_payment_id(payment_id)
    repo = repository()
    payment = repo.get(payment_id)
    if payment is None:
        raise PaymentNotFound(f"payment {payment_id} does not exist")
    history = [entry.to_public() for entry in repo.history(payment_id)]
    return json_response(200, payment.to_public() | {"history": history})


@app.get("/payments")
@tracer.capture_method
def list_payments() -> Response[dict[str, Any]]:
    query = parse_list_payments(app.current_event.query_string_parameters)
    payments, last_key = repository().list_by_merchant(
        query.merchant_id, query.created_from, query.created_to, query.limit, query.start_key
    )
    return json_response(
        200,
        {
            "items": [payment.to_public() for payment in payments],
            "next_token": encode_token(last_key) if last_key else None,
        },
    )


@app.exception_handler(DomainError)
def _domain_error(error: DomainError) -> Response[dict[str, Any]]:
    logger.info("request refused", extra={"code": error.code, "reason": error.message})
    return json_response(error.http_status, error.to_body())


@app.exception_handler(IdempotencyValidationError)
def _idempotency_mismatch(_: IdempotencyValidationError) -> Response[dict[str, Any]]:
    return json_response(
        409,
        error_body(
            "idempotency_conflict",
            "this Idempotency-Key was already used with a different request body",
            "Idempotency-Key",
        ),
    )


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _idempotency_in_progress(_: IdempotencyAlreadyInProgressError) -> Response[dict[str, Any]]:
    return json_response(
        409,
        error_body(
            "idempotency_in_progress",
            "a request with this Idempotency-Key is still being processed; retry later",
            "Idempotency-Key",
        ),
    )


@app.not_found
def _no_route(_: NotFoundError) -> Response[dict[str, Any]]:
    return json_response(404, error_body("not_found", "no such resource"))


@app.exception_handler(Exception)
def _internal_error(error: Exception) -> Response[dict[str, Any]]:
    logger.exception("unhandled error")
    body = error_body("internal_error", "internal error; quote the request_id when reporting it")
    body["error"]["request_id"] = app.lambda_context.aws_request_id
    return json_response(500, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
