"""Merchants are tenants: the merchant of a request is the one its credential verified.

The API's Lambda authorizer resolves the caller's API key to a merchant and hands it to the
integration as ``requestContext.authorizer.merchant_id``; nothing the client writes can
change it. A ``merchant_id`` the client still sends (older clients do) must equal it, or the
request is refused with ``MerchantMismatch``. Everything that identifies a payment is scoped
by that merchant: the payment id derived from an ``Idempotency-Key``, the idempotency record,
and what ``GET`` may show (another merchant's payment is answered exactly like one that does
not exist). Free text never carries a card number (``refuse_cardholder_data``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from payment_core import contract
from payment_core.errors import DomainError, InvalidRequest
from payment_core.payments.cardholder_data import find_pan

# Not the namespace of the unscoped ids: a scoped id can never equal an id issued before.
_MERCHANT_PAYMENT_ID_NAMESPACE = uuid.UUID("0b8f6c52-8a7e-4f0c-b1d3-6e2a9c4d7f15")


class MerchantUnidentified(DomainError):
    """The request reached the integration without a verified merchant (a deployment bug)."""


class MerchantMismatch(DomainError):
    """The request names a merchant other than the one its credential belongs to."""


class CardholderDataRefused(InvalidRequest):
    """A free-text field holds what looks like a card number (a Luhn-valid 13-19 digit run)."""


def verified_merchant(request_context: Mapping[str, Any] | None) -> str:
    """The merchant the authorizer verified, from the proxy event's ``requestContext``."""
    authorizer = (request_context or {}).get("authorizer") or {}
    merchant_id = authorizer.get("merchant_id") if isinstance(authorizer, Mapping) else None
    if not isinstance(merchant_id, str) or not merchant_id:
        raise MerchantUnidentified("no verified merchant on the request")
    return merchant_id


def merchant_api_version(request_context: Mapping[str, Any] | None) -> str | None:
    """The verified merchant's default API version, from the authorizer's context (None when the
    answer carried none)."""
    authorizer = (request_context or {}).get("authorizer") or {}
    version = authorizer.get(contract.MERCHANT_API_VERSION_CONTEXT) if isinstance(authorizer, Mapping) else None
    return version if isinstance(version, str) and version else None


def bind_merchant(claimed: object, verified: str, field: str = "merchant_id") -> str:
    """``verified``, if the request names no merchant or the same one; else ``MerchantMismatch``."""
    if claimed is None or claimed == verified:
        return verified
    raise MerchantMismatch("merchant_id does not match the merchant of this API key", field)


def payment_id_for(merchant_id: str, idempotency_key: str) -> str:
    """The payment id of a merchant's ``Idempotency-Key``: two merchants, two payments."""
    return "pay_" + uuid.uuid5(_MERCHANT_PAYMENT_ID_NAMESPACE, f"{merchant_id}\n{idempotency_key}").hex


def refuse_cardholder_data(value: str, field: str) -> str:
    """``value`` unless it holds a PAN; the error names only the last four digits."""
    found = find_pan(value)
    if found is not None:
        raise CardholderDataRefused(
            f"{field} looks like a card number (ending {found.last_four}); send a tokenized reference instead",
            field,
        )
    return value
