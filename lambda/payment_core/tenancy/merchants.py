"""Merchants as tenants: who a credential belongs to, and whether it may call the API.

A merchant's credential is an API Gateway API key (one per merchant, in its tier's usage
plan, so API Gateway itself throttles and meters each merchant). The merchants table never
holds the key itself, only its SHA-256: reading the table does not hand out credentials.
Items (one table, partition key ``pk``):

* ``merchant#<merchant_id>``: ``merchant_id``, ``status`` (ACTIVE/DISABLED), ``tier``,
  ``api_key_id``, ``created_at``, ``updated_at``;
* ``apikey#<sha256 hex of the key>``: ``merchant_id``, ``api_key_id``.

The status lives on the merchant item only: the authorizer reads the credential, then the
merchant, both strongly consistent, so a disabled merchant is refused on its next request
(with the authorizer's result cache off, see docs/architecture.md). A batch row's merchant is
checked with the second read alone. Merchants are data written by ``make merchant``
(``scripts/merchant.py``), not Terraform resources: a stack holds thousands without a
re-apply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core.payments.models import MERCHANT_ID_PATTERN, format_timestamp, utc_now
from payment_core.payments.repository import condition_failed, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

MERCHANT_PREFIX = "merchant#"
API_KEY_PREFIX = "apikey#"


class MerchantStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class MerchantExists(Exception):
    """Onboarding a merchant id that is already taken."""


class UnknownMerchant(Exception):
    """Disabling a merchant that was never onboarded."""


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    status: MerchantStatus
    tier: str
    api_key_id: str

    @property
    def active(self) -> bool:
        return self.status is MerchantStatus.ACTIVE


def api_key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def valid_merchant_id(merchant_id: str) -> bool:
    return MERCHANT_ID_PATTERN.fullmatch(merchant_id) is not None


class MerchantDirectory:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _get(self, pk: str) -> dict[str, Any] | None:
        found = self._client.get_item(TableName=self._table, Key=to_attributes({"pk": pk}), ConsistentRead=True)
        item = found.get("Item")
        return from_attributes(item) if item else None

    def by_api_key(self, api_key: str) -> Merchant | None:
        """The merchant a presented key belongs to (any status), or None."""
        credential = self._get(API_KEY_PREFIX + api_key_digest(api_key))
        if credential is None:
            return None
        return self.get(str(credential["merchant_id"]))

    def get(self, merchant_id: str) -> Merchant | None:
        item = self._get(MERCHANT_PREFIX + merchant_id)
        if item is None:
            return None
        return Merchant(
            merchant_id=str(item["merchant_id"]),
            status=MerchantStatus(str(item["status"])),
            tier=str(item["tier"]),
            api_key_id=str(item["api_key_id"]),
        )

    def is_active(self, merchant_id: str) -> bool:
        merchant = self.get(merchant_id)
        return merchant is not None and merchant.active

    def onboard(self, merchant_id: str, tier: str, api_key: str, api_key_id: str) -> Merchant:
        now = format_timestamp(utc_now())
        merchant = {
            "pk": MERCHANT_PREFIX + merchant_id,
            "merchant_id": merchant_id,
            "status": MerchantStatus.ACTIVE.value,
            "tier": tier,
            "api_key_id": api_key_id,
            "api_key_digest": api_key_digest(api_key),
            "created_at": now,
            "updated_at": now,
        }
        credential = {
            "pk": API_KEY_PREFIX + api_key_digest(api_key),
            "merchant_id": merchant_id,
            "api_key_id": api_key_id,
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": self._new(merchant)},
                    {"Put": self._new(credential)},
                ]
            )
        except ClientError as error:
            if condition_failed(error):
                raise MerchantExists(merchant_id) from error
            raise
        return Merchant(merchant_id, MerchantStatus.ACTIVE, tier, api_key_id)

    def _new(self, item: Mapping[str, Any]) -> Any:
        return {
            "TableName": self._table,
            "Item": to_attributes(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def set_status(self, merchant_id: str, status: MerchantStatus) -> Merchant:
        try:
            updated = self._client.update_item(
                TableName=self._table,
                Key=to_attributes({"pk": MERCHANT_PREFIX + merchant_id}),
                UpdateExpression="SET #s = :s, updated_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_attributes({":s": status.value, ":now": format_timestamp(utc_now())}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if condition_failed(error):
                raise UnknownMerchant(merchant_id) from error
            raise
        item = from_attributes(updated["Attributes"])
        return Merchant(merchant_id, status, str(item["tier"]), str(item["api_key_id"]))


# --- The Lambda REQUEST authorizer's decision ---------------------------------------------
# The policy names the whole stage (every method and path), so a cached answer is right for
# every route of the API; the context carries the verified merchant to the integration.


def stage_resource(method_arn: str) -> str:
    """``arn:...:<api>/<stage>/<VERB>/<path>`` → ``arn:...:<api>/<stage>/*/*``."""
    api_and_stage = "/".join(method_arn.split("/", 2)[:2])
    return f"{api_and_stage}/*/*"


def authorizer_response(merchant: Merchant | None, method_arn: str) -> dict[str, Any]:
    """Allow an active merchant on the whole stage, deny anything else. The answer carries no
    credential: with the API's key source HEADER, API Gateway meters the x-api-key header itself
    (a ``usageIdentifierKey`` is read only with the AUTHORIZER source), and an answer is kept in
    traces and logs more readily than a request header."""
    allowed = merchant is not None and merchant.active
    principal = merchant.merchant_id if merchant is not None else "unknown"
    response: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": stage_resource(method_arn),
                }
            ],
        },
    }
    if allowed and merchant is not None:
        response["context"] = {"merchant_id": merchant.merchant_id, "tier": merchant.tier}
    return response
