"""The outbox's relay: admit the workflow of every new payment on the payments table's stream.

The event source mapping delivers only ``INSERT`` records (its filter) with the payment's key.
Each payment is admitted (``payments/admission.py``): its execution, ``StartExecution(name=
<payment_id>)``, starts if one of the ``IN_FLIGHT_LIMIT`` start slots is free, else the payment
waits in the start slots table for the next slot the workflow frees, and its record succeeds:
waiting costs the mapping no retry. ``ExecutionAlreadyExists`` is success, so a redelivered record
starts nothing twice. Starts are paced to the account's quotas (``payments/start_pacing.py``) and
a throttled start is retried within the invocation; a start that still fails, or that the
invocation has no time left for, is reported in ``batchItemFailures`` (keeping its slot): the
mapping retries from that record on, in order, until it succeeds or its retries run out (then
the give-up bucket, which the sweeper recovers from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from payment_core import contract
from payment_core.partial_batch import STREAM_RECORDS, StreamRecord, report_failures
from payment_core.payments.admission import Admitted, StartSlots, admit
from payment_core.payments.start_pacing import PacedStarts, PacingSettings
from payment_core.payments.submission import StepFunctionsStarter
from payment_core.payments.validation import payment_id_field
from payment_core.payments.wiring import AdmittingEnvironment
from payment_core.runtime import Cached, FunctionRuntime
from payment_core.settings import FunctionVariables, reads


def _pacing(variables: FunctionVariables) -> PacingSettings:
    """The starter's pace (lib/config/pacing.py), set in milliseconds."""
    return PacingSettings(
        starts_per_second=1000 / variables.positive_int(contract.START_INTERVAL_MS),
        retry_base_seconds=variables.positive_int(contract.START_RETRY_BASE_MS) / 1000,
        retry_cap_seconds=variables.positive_int(contract.START_RETRY_MAX_MS) / 1000,
        reserve_seconds=variables.positive_int(contract.START_TIME_RESERVE_MS) / 1000,
    )


@dataclass(frozen=True)
class WorkflowStarterEnvironment(AdmittingEnvironment):
    """The state machine it starts, its pace and its start slots (no payment rules: it only relays)."""

    pacing: PacingSettings = field(metadata=reads(_pacing))


# The starter retries throttles itself, with jitter and within its deadline: botocore's own
# retries would sleep past it.
NO_SDK_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


class WorkflowStarterRuntime(FunctionRuntime[WorkflowStarterEnvironment]):
    """StartExecution for each new payment on the payments table's stream, paced and admitted."""

    def __init__(self) -> None:
        super().__init__(contract.WORKFLOW_STARTER, WorkflowStarterEnvironment)
        self.stepfunctions = self.cached(lambda: boto3.client("stepfunctions", config=NO_SDK_RETRIES))
        self.workflow_starter: Cached[StepFunctionsStarter] = self.cached(
            lambda: StepFunctionsStarter(self.stepfunctions(), self.environment().state_machine_arn)
        )
        self.start_slots: Cached[StartSlots] = self.cached(lambda: self.environment().start_slots(self.dynamodb()))


runtime = WorkflowStarterRuntime()


@runtime.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    starts = PacedStarts(
        runtime.workflow_starter(), runtime.environment().pacing, context.get_remaining_time_in_millis() / 1000
    )
    slots = runtime.start_slots()
    waiting = 0

    @runtime.tracer.capture_method
    def record_handler(record: StreamRecord) -> str:
        nonlocal waiting
        payment_id = payment_id_field(record.keys.get("payment_id"))
        if admit(slots, starts.start, payment_id) is Admitted.WAITING:
            waiting += 1
        else:
            runtime.count("WorkflowStarted")
        return payment_id

    response = report_failures(event, STREAM_RECORDS, record_handler)
    starts.finish()
    if starts.retries:
        runtime.count("WorkflowStartRetried", starts.retries)
    if waiting:
        runtime.count("WorkflowStartWaiting", waiting)
    return response
