"""Status notifications on the SNS topic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from payment_core.payments.models import Payment
from payment_core.payments.money import format_amount

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


def status_message(payment: Payment) -> dict[str, Any]:
    message: dict[str, Any] = {
        "payment_id": payment.payment_id,
        "merchant_id": payment.merchant_id,
        "status": payment.status.value,
        "amount": format_amount(payment.amount, payment.currency),
        "currency": payment.currency,
        "updated_at": payment.updated_at,
    }
    if payment.failure_reason is not None:
        message["failure_reason"] = payment.failure_reason
    return message


class SnsStatusPublisher:
    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, payment: Payment) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Message=json.dumps(status_message(payment), sort_keys=True),
            MessageAttributes={
                "status": {"DataType": "String", "StringValue": payment.status.value},
                "merchant_id": {"DataType": "String", "StringValue": payment.merchant_id},
            },
        )
        return response["MessageId"]
