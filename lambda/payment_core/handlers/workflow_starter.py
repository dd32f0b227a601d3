"""The outbox's relay: start the workflow of every new payment on the payments table's stream.

The event source mapping delivers only ``INSERT`` records (its filter) with the payment's key.
Each one is ``StartExecution(name=<payment_id>)``; ``ExecutionAlreadyExists`` is success, so a
redelivered record starts nothing twice. A start that still fails after botocore's retries
(throttled, 5xx) is reported in ``batchItemFailures``: the mapping retries from that record
on, in order, until it succeeds or its retries run out (then the DLQ, which is alarmed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from payment_core import contract
from payment_core.payments.submission import StepFunctionsStarter
from payment_core.payments.validation import payment_id_field
from payment_core.runtime import FunctionRuntime
from payment_core.settings import FunctionEnvironment, variable


@dataclass(frozen=True)
class WorkflowStarterEnvironment(FunctionEnvironment):
    """The state machine it starts (and no payment rules: it only relays new payments)."""

    state_machine_arn: str = field(metadata=variable(contract.STATE_MACHINE_ARN))


runtime = FunctionRuntime(contract.WORKFLOW_STARTER, WorkflowStarterEnvironment)
# StartExecution for each new payment on the payments table's stream.
starter = runtime.cached(lambda: StepFunctionsStarter(runtime.stepfunctions(), runtime.environment().state_machine_arn))


@runtime.tracer.capture_method
def record_handler(record: DynamoDBRecord) -> str:
    keys = record.dynamodb.keys if record.dynamodb else {}
    payment_id = payment_id_field(keys.get("payment_id"))
    starter().start(payment_id)
    runtime.count("WorkflowStarted")
    return payment_id


handler = runtime.partial_batch_handler(EventType.DynamoDBStreams, record_handler)
