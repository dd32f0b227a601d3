"""A function's runtime: Powertools, typed environment, AWS clients and repositories, built once.

Each handler module (``payment_core.handlers.<function>``) holds one runtime: the pieces
here plus its own, so a function imports only what it uses and one function's wiring never
slows another's cold start. Everything in it is built on first use and kept for the life of
the execution environment (building clients at import would bind them to
whatever endpoint and credentials exist then). Tests replace a piece with ``override`` and
drop everything with ``reset``: a replaced or dropped piece also drops every piece built
before it, so a repository never keeps a client a test has replaced.

The environment is read on the first invocation of an execution environment (its cold
start), before the event is looked at; import stays free of configuration.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from payment_core.settings import FunctionEnvironment, FunctionVariables, read_environment
from payment_core.tracing import TRACED_MODULES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient

    from payment_core.partial_batch import BatchResponse, Record, RecordKind

T = TypeVar("T")
Environment = TypeVar("Environment", bound=FunctionEnvironment)
Piece = TypeVar("Piece")
Event = TypeVar("Event")
Result = TypeVar("Result")
Handler = Callable[[Event, LambdaContext], Result]


class Cached(Generic[T]):
    """A value built on first call and kept; ``override`` and ``reset`` are the test hooks."""

    def __init__(self, build: Callable[[], T], on_change: Callable[[], None]) -> None:
        self._build = build
        self._on_change = on_change
        self._value: T | None = None
        self._built = False
        self._overridden = False

    def __call__(self) -> T:
        if not self._built:
            self._value = self._build()
            self._built = True
        return self._value  # type: ignore[return-value]  # built above: a T, possibly None

    def override(self, value: T) -> None:
        self._on_change()
        self._value, self._built, self._overridden = value, True, True

    def reset(self) -> None:
        self._overridden = False
        self._on_change()

    def forget_built(self) -> None:
        if not self._overridden:
            self._value, self._built = None, False


class FunctionRuntime(Generic[Environment]):
    """One function's Powertools, environment (an ``Environment``) and AWS clients."""

    def __init__(self, function: str, environment: type[Environment]) -> None:
        self.function = function
        self.environment_type = environment
        self.logger = Logger()
        self.tracer = Tracer(patch_modules=TRACED_MODULES)
        self.metrics = Metrics()
        self._cached: list[Cached[Any]] = []
        self.environment: Cached[Environment] = self.cached(
            lambda: read_environment(environment, FunctionVariables(function, os.environ))
        )
        self.dynamodb: Cached[DynamoDBClient] = self.cached(lambda: boto3.client("dynamodb"))
        self.stepfunctions: Cached[SFNClient] = self.cached(lambda: boto3.client("stepfunctions"))
        self.sqs: Cached[SQSClient] = self.cached(lambda: boto3.client("sqs"))
        self.sns: Cached[SNSClient] = self.cached(lambda: boto3.client("sns"))
        self.s3: Cached[S3Client] = self.cached(lambda: boto3.client("s3"))
        # Any: the project carries no mypy_boto3_kms stubs.
        self.kms: Cached[Any] = self.cached(lambda: boto3.client("kms"))

    def cached(self, build: Callable[[], Piece]) -> Cached[Piece]:
        """A piece of this runtime: built once, dropped by ``reset`` or by a change to another piece."""
        piece = Cached(build, self._forget_built)
        self._cached.append(piece)
        return piece

    def _forget_built(self) -> None:
        for piece in self._cached:
            piece.forget_built()

    def reset(self) -> None:
        """Drop every piece, overrides included (tests: nothing outlives its test)."""
        for piece in self._cached:
            piece.reset()

    def count(self, metric: str, value: int = 1) -> None:
        self.metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)

    def handler(
        self, correlation_id_path: str | None = None, *, capture_response: bool = True
    ) -> Callable[[Handler[Event, Result]], Handler[Event, Result]]:
        """Logger context, tracing and metrics around a handler, which first checks the environment.

        ``capture_response=False``: the trace keeps no copy of what the handler returns (the
        Tracer records it as segment metadata by default), for answers that carry credentials
        or customer data."""

        def decorate(handle: Handler[Event, Result]) -> Handler[Event, Result]:
            @functools.wraps(handle)
            def configured(event: Event, context: LambdaContext) -> Result:
                self.environment()  # read and checked once; a missing variable fails here, named
                return handle(event, context)

            traced = self.tracer.capture_lambda_handler(
                self.metrics.log_metrics(configured), capture_response=capture_response
            )
            # clear_state: keys a request appended (an Idempotency-Key, a merchant) must not
            # reach the logs of the next invocation of this warm execution environment.
            if correlation_id_path is None:
                return self.logger.inject_lambda_context(traced, clear_state=True)
            return self.logger.inject_lambda_context(traced, correlation_id_path=correlation_id_path, clear_state=True)

        return decorate

    def partial_batch_handler(
        self, kind: RecordKind[Record], record_handler: Callable[[Record], object]
    ) -> Handler[dict[str, Any], BatchResponse]:
        """The handler of an event source mapping that reports each record ``record_handler``
        raised for in ``batchItemFailures`` (a partial batch response), so only those are retried.
        ``kind`` names and reads the mapping's records (``partial_batch.QUEUE_MESSAGES``,
        ``STREAM_RECORDS``); a record that cannot be read is that record's failure, not the batch's."""
        # Imported here: only the stream and queue consumers load it.
        from payment_core.partial_batch import report_failures

        @self.handler()
        def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
            return report_failures(event, kind, record_handler)

        return handler
