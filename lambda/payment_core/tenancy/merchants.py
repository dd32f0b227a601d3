"""Merchants as tenants: who a credential belongs to, and whether it may call the API.

A merchant authenticates with its own secret keys (``payment_core.tenancy.secret_keys``):
several may be live at once (a rotation leaves the previous one valid for an overlap), each
with its own expiry, each revocable. The table holds only their SHA-256 digests: reading it
does not hand out credentials. Each merchant also has an API Gateway API key in its tier's
usage plan, so API Gateway throttles and meters each merchant; that key's value is a metering
identifier (``usage_key``), returned by the authorizer as ``usageIdentifierKey`` (the API's
key source is ``AUTHORIZER``), and authenticates nothing. Items (one table, key ``pk``):

* ``merchant#<merchant_id>``: ``merchant_id``, ``status`` (ACTIVE/DISABLED), ``tier``,
  ``api_key_id``, ``usage_key``, ``secret_keys`` (key id → digest and its times, see
  ``SecretKey``), ``api_version`` (the API version served when a request names none: the latest
  at onboarding; absent on a merchant onboarded before versions, which gets the latest),
  ``created_at``, ``updated_at``;
* ``secretkey#<sha256 hex of the secret>``: ``merchant_id``, ``key_id`` (the lookup).

The status and each key's state live on the merchant item only: the authorizer reads the
lookup item, then the merchant, both strongly consistent, so a disabled merchant or a revoked
key is refused on its next request (with the authorizer's result cache off, see
docs/architecture.md). Every change of the keys is conditional on the merchant item's
``updated_at`` as read: two operators rotating at once cannot lose a key. A batch row's
merchant is checked with the merchant read alone. Merchants are data written by
``make merchant`` (``ops/merchant.py``), not Terraform resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.payments.models import MERCHANT_ID_PATTERN, format_timestamp, utc_now
from payment_core.payments.repository import condition_failed, from_attributes, to_attributes
from payment_core.tenancy.secret_keys import CredentialCheck, SecretKey, secret_digest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

MERCHANT_PREFIX = "merchant#"
SECRET_KEY_PREFIX = "secretkey#"
# A merchant holds at most this many live secret keys: a rotation beyond it is refused until
# one is revoked (each live key is one more credential that can leak).
MAX_LIVE_SECRET_KEYS = 5


class MerchantStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class MerchantExists(Exception):
    """Onboarding a merchant id that is already taken."""


class UnknownMerchant(Exception):
    """Changing a merchant that was never onboarded."""


class SecretKeyRefused(Exception):
    """A change of a merchant's secret keys that cannot be made (the message says why)."""


class ConcurrentChange(Exception):
    """The merchant item changed between read and write; read it again."""


@dataclass(frozen=True)
class Merchant:
    """A merchant's record: its status, tier, API key and secret keys."""

    merchant_id: str
    status: MerchantStatus
    tier: str
    api_key_id: str
    usage_key: str  # the API key's value: a metering identifier, no credential
    secret_keys: tuple[SecretKey, ...] = ()
    updated_at: str = ""
    api_version: str = contract.LATEST_API_VERSION  # served when a request names no version

    @property
    def active(self) -> bool:
        return self.status is MerchantStatus.ACTIVE

    def secret_key(self, key_id: str) -> SecretKey | None:
        return next((key for key in self.secret_keys if key.key_id == key_id), None)


@dataclass(frozen=True)
class Authentication:
    """The authorizer's verdict, and the merchant when the credential named one."""

    check: CredentialCheck
    merchant: Merchant | None = None

    @property
    def allowed(self) -> bool:
        return self.check is CredentialCheck.ALLOWED


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

    def authenticate(self, secret: str, now: datetime) -> Authentication:
        """Whose well-formed secret key this is, and whether it authenticates at ``now``."""
        digest = secret_digest(secret)
        lookup = self._get(SECRET_KEY_PREFIX + digest)
        merchant = self.get(str(lookup["merchant_id"])) if lookup is not None else None
        key = merchant.secret_key(str(lookup["key_id"])) if merchant is not None and lookup is not None else None
        if merchant is None or key is None or key.digest != digest:
            return Authentication(CredentialCheck.UNKNOWN)
        if not merchant.active:
            return Authentication(CredentialCheck.MERCHANT_DISABLED, merchant)
        return Authentication(key.refusal(now) or CredentialCheck.ALLOWED, merchant)

    def get(self, merchant_id: str) -> Merchant | None:
        item = self._get(MERCHANT_PREFIX + merchant_id)
        if item is None:
            return None
        keys = item.get("secret_keys") or {}
        return Merchant(
            merchant_id=str(item["merchant_id"]),
            status=MerchantStatus(str(item["status"])),
            tier=str(item["tier"]),
            api_key_id=str(item["api_key_id"]),
            usage_key=str(item.get("usage_key", "")),
            secret_keys=tuple(SecretKey.from_item(key_id, keys[key_id]) for key_id in sorted(keys)),
            updated_at=str(item["updated_at"]),
            api_version=str(item.get("api_version", contract.LATEST_API_VERSION)),
        )

    def is_active(self, merchant_id: str) -> bool:
        merchant = self.get(merchant_id)
        return merchant is not None and merchant.active

    def onboard(
        self, merchant_id: str, tier: str, usage_key: str, api_key_id: str, first_key: SecretKey | None = None
    ) -> Merchant:
        """A new ACTIVE merchant: its API key (value and id, for metering) and first secret key,
        its default API version pinned to the latest."""
        now = format_timestamp(utc_now())
        keys = () if first_key is None else (first_key,)
        merchant = {
            "pk": MERCHANT_PREFIX + merchant_id,
            "merchant_id": merchant_id,
            "status": MerchantStatus.ACTIVE.value,
            "tier": tier,
            "api_key_id": api_key_id,
            "usage_key": usage_key,
            "secret_keys": {key.key_id: key.to_item() for key in keys},
            "api_version": contract.LATEST_API_VERSION,
            "created_at": now,
            "updated_at": now,
        }
        puts: list[Any] = [
            {"Put": self._new(item)} for item in (merchant, *(self._lookup(merchant_id, k) for k in keys))
        ]
        try:
            self._client.transact_write_items(TransactItems=puts)
        except ClientError as error:
            if condition_failed(error):
                raise MerchantExists(merchant_id) from error
            raise
        return Merchant(merchant_id, MerchantStatus.ACTIVE, tier, api_key_id, usage_key, keys, now)

    def _lookup(self, merchant_id: str, key: SecretKey) -> dict[str, Any]:
        return {"pk": SECRET_KEY_PREFIX + key.digest, "merchant_id": merchant_id, "key_id": key.key_id}

    def rotate(
        self, merchant_id: str, new_key: SecretKey, overlap: timedelta, usage_key: str | None = None
    ) -> Merchant:
        """Add ``new_key``; every live key retires ``overlap`` from now (an earlier end stays).

        Keys that no longer authenticate are dropped with their lookup items. ``usage_key``
        fills in a merchant onboarded before secret keys (its API key's value, for metering).
        """
        merchant = self._existing(merchant_id)
        now = new_key.created_at
        kept = [key.retired_by(now + overlap) for key in merchant.secret_keys if key.live(now)]
        live = [key for key in kept if key.live(now)]
        if len(live) >= MAX_LIVE_SECRET_KEYS:
            raise SecretKeyRefused(
                f"merchant {merchant_id} has {len(live)} live secret keys, the most it may hold: revoke one first"
            )
        dropped = [key for key in merchant.secret_keys if not key.live(now)]
        extra = [{"Put": self._new(self._lookup(merchant_id, new_key))}]
        extra += [{"Delete": self._delete(SECRET_KEY_PREFIX + key.digest)} for key in dropped]
        return self._write_keys(merchant, (*kept, new_key), now, extra, usage_key)

    def revoke(self, merchant_id: str, key_id: str | None, now: datetime) -> Merchant:
        """Revoke one secret key (``key_id``) or, with None, every key the merchant still has."""
        merchant = self._existing(merchant_id)
        if key_id is not None and merchant.secret_key(key_id) is None:
            raise SecretKeyRefused(f"merchant {merchant_id} has no secret key {key_id}")
        keys = tuple(
            replace(key, revoked_at=now) if key_id in (None, key.key_id) and key.revoked_at is None else key
            for key in merchant.secret_keys
        )
        return self._write_keys(merchant, keys, now, [], None)

    def _existing(self, merchant_id: str) -> Merchant:
        merchant = self.get(merchant_id)
        if merchant is None:
            raise UnknownMerchant(merchant_id)
        return merchant

    def _write_keys(
        self,
        merchant: Merchant,
        keys: tuple[SecretKey, ...],
        now: datetime,
        extra: list[dict[str, Any]],
        usage_key: str | None,
    ) -> Merchant:
        names = {"#keys": "secret_keys"}
        values: dict[str, Any] = {
            ":keys": {key.key_id: key.to_item() for key in keys},
            ":now": format_timestamp(now),
            ":seen": merchant.updated_at,
        }
        expression = "SET #keys = :keys, updated_at = :now"
        if usage_key is not None:
            expression += ", usage_key = :usage"
            values[":usage"] = usage_key
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_attributes({"pk": MERCHANT_PREFIX + merchant.merchant_id}),
            "UpdateExpression": expression,
            "ConditionExpression": "updated_at = :seen",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_attributes(values),
        }
        try:
            writes: list[Any] = [{"Update": update}, *extra]
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if condition_failed(error):
                raise ConcurrentChange(merchant.merchant_id) from error
            raise
        return replace(
            merchant,
            secret_keys=keys,
            updated_at=values[":now"],
            usage_key=usage_key if usage_key is not None else merchant.usage_key,
        )

    def _delete(self, pk: str) -> dict[str, Any]:
        return {"TableName": self._table, "Key": to_attributes({"pk": pk})}

    def _new(self, item: Mapping[str, Any]) -> Any:
        return {
            "TableName": self._table,
            "Item": to_attributes(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def set_status(self, merchant_id: str, status: MerchantStatus) -> Merchant:
        return self._set(merchant_id, "status", status.value)

    def set_api_version(self, merchant_id: str, version: str) -> Merchant:
        """Pin the version the merchant's requests without a version header are served with."""
        if version not in contract.API_VERSIONS:
            raise ValueError(f"api_version must be one of: {', '.join(contract.API_VERSIONS)}, got {version!r}")
        return self._set(merchant_id, "api_version", version)

    def _set(self, merchant_id: str, attribute: str, value: str) -> Merchant:
        """One attribute of an existing merchant, read back as it now is."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes({"pk": MERCHANT_PREFIX + merchant_id}),
                UpdateExpression="SET #a = :v, updated_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues=to_attributes({":v": value, ":now": format_timestamp(utc_now())}),
            )
        except ClientError as error:
            if condition_failed(error):
                raise UnknownMerchant(merchant_id) from error
            raise
        merchant = self.get(merchant_id)
        if merchant is None:  # deleted between the two calls: nothing to answer with
            raise UnknownMerchant(merchant_id)
        return merchant
