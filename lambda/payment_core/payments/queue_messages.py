"""The processing queue's message: one batch row, as ``batch_ingest`` sends it."""

from __future__ import annotations

from dataclasses import dataclass

from payment_core.errors import InvalidRequest
from payment_core.payments.models import PaymentRequest
from payment_core.payments.validation import (
    PAYMENT_FIELDS,
    check_fields,
    load_json_object,
    payment_id_field,
    payment_request,
    text_field,
)
from payment_core.rules import BusinessRules

MESSAGE_FIELDS = ("payment_id", *PAYMENT_FIELDS, "batch_job_id", "row_number")


@dataclass(frozen=True)
class BatchPaymentMessage:
    """A batch file row's payment, as queued for the queue consumer."""

    payment_id: str
    request: PaymentRequest
    batch_job_id: str
    row_number: int


def parse_queue_message(body: str, rules: BusinessRules) -> BatchPaymentMessage:
    data = load_json_object(body, "message")
    check_fields(data, MESSAGE_FIELDS)
    row_number = data["row_number"]
    if isinstance(row_number, bool) or not isinstance(row_number, int) or row_number < 2:
        raise InvalidRequest("row_number must be an integer >= 2", "row_number")
    return BatchPaymentMessage(
        payment_id=payment_id_field(data["payment_id"]),
        request=payment_request(data, rules),
        batch_job_id=text_field(data["batch_job_id"], "batch_job_id", 128),
        row_number=row_number,
    )
