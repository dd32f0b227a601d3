"""Status notifications on the SNS topic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from payment_core.items import present
from payment_core.payments.models import Payment
from payment_core.payments.money import format_amount
from payment_core.payments.refund_models import Refund

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


def status_message(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "merchant_id": payment.merchant_id,
        "status": payment.status.value,
        "amount": format_amount(payment.amount, payment.currency),
        "currency": payment.currency,
        "updated_at": payment.updated_at,
    } | present(failure_reason=payment.failure_reason)


class SnsStatusPublisher:
    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, payment: Payment) -> str:
        return self.publish_message(status_message(payment), payment.status.value, payment.merchant_id)

    def publish_refund(self, refund: Refund) -> str:
        return self.publish_message(refund_message(refund), refund.status.value, refund.merchant_id)

    def publish_message(self, message: dict[str, Any], status: str, merchant_id: str) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Message=json.dumps(message, sort_keys=True),
            MessageAttributes={
                "status": {"DataType": "String", "StringValue": status},
                "merchant_id": {"DataType": "String", "StringValue": merchant_id},
            },
        )
        return response["MessageId"]


def refund_message(refund: Refund) -> dict[str, Any]:
    """A refund's status on the same topic: ``refund_id`` tells it from a payment's message."""
    return refund.to_public() | {"merchant_id": refund.merchant_id}
