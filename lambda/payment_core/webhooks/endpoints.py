"""Webhook endpoints: where a merchant's events are delivered, and the secrets that sign them.

An endpoint is an item of the events table under its merchant (``contract.WEBHOOK_ENDPOINT_ID_PREFIX``
keeps it outside every event query's range), so reading one is a GetItem under the caller's
merchant: another merchant's endpoint is not found, like a missing one. Its signing secrets are
stored only as KMS ciphertext under the platform key with the merchant and the endpoint as
encryption context (a ciphertext copied onto another endpoint does not decrypt). A rotation adds a
new current secret; the previous one keeps signing until its ``expires_at`` (the configured
overlap), so a merchant can swap secrets with no delivery failing verification.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.errors import InvalidRequest, WebhookEndpointNotFound
from payment_core.events.destinations import check_url
from payment_core.items import decode_item, present, texts
from payment_core.payments.models import format_timestamp
from payment_core.payments.repository import condition_failed, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ENABLED: str = "enabled"
DISABLED: str = "disabled"
OBJECT: str = "webhook_endpoint"
_ID_HEX_BYTES = 12
_SECRET_BYTES = 32


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in hex (contract.WEBHOOK_SECRET_PATTERN)."""
    return contract.WEBHOOK_SECRET_PREFIX + secrets.token_hex(_SECRET_BYTES)


def is_endpoint_id(value: object) -> bool:
    prefix, size = contract.WEBHOOK_ENDPOINT_ID_PREFIX, len(contract.WEBHOOK_ENDPOINT_ID_PREFIX) + 2 * _ID_HEX_BYTES
    return (
        isinstance(value, str)
        and len(value) == size
        and value.startswith(prefix)
        and all(c in "0123456789abcdef" for c in value[len(prefix) :])
    )


@dataclass(frozen=True)
class StoredSecret:
    """An endpoint's signing secret, encrypted, with when it stops being in force."""

    ciphertext: bytes
    expires_at: int | None = None  # epoch seconds; None: the current secret, until the next rotation

    def in_force(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class WebhookEndpoint:
    """A merchant's webhook endpoint as stored, and what the merchant is shown of it (``to_public``)."""

    endpoint_id: str
    merchant_id: str
    url: str
    enabled_events: tuple[str, ...]
    status: str
    created: str
    secrets: tuple[StoredSecret, ...]

    def wants(self, event_type: str) -> bool:
        return self.status == ENABLED and (
            contract.WEBHOOK_ALL_EVENTS in self.enabled_events or event_type in self.enabled_events
        )

    def signing_secrets(self, now: float) -> tuple[StoredSecret, ...]:
        """The current secret first, then any previous one still within its overlap."""
        return tuple(each for each in self.secrets if each.in_force(now))

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.endpoint_id,
            "object": OBJECT,
            "url": self.url,
            "enabled_events": list(self.enabled_events),
            "status": self.status,
            "created": self.created,
        }

    def to_item(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "event_id": self.endpoint_id,  # the table's range key (contract.EVENTS_TABLE_KEY)
            "object": OBJECT,
            "url": self.url,
            "enabled_events": list(self.enabled_events),
            "status": self.status,
            "created": self.created,
            "secrets": [_secret_item(each) for each in self.secrets],
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> WebhookEndpoint:
        return decode_item(
            cls,
            item,
            {"enabled_events": texts, "secrets": _secrets},
            attributes={"endpoint_id": "event_id"},  # the table's range key
        )


def _secrets(items: Any) -> tuple[StoredSecret, ...]:
    return tuple(
        StoredSecret(
            ciphertext=bytes(each["ciphertext"]),
            expires_at=int(each["expires_at"]) if each.get("expires_at") is not None else None,
        )
        for each in items
    )


def _secret_item(secret: StoredSecret) -> dict[str, Any]:
    return {"ciphertext": secret.ciphertext} | present(expires_at=secret.expires_at)


class SecretBox:
    """Seals and opens signing secrets with KMS under the platform key, bound to their endpoint."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    @staticmethod
    def _context(merchant_id: str, endpoint_id: str) -> dict[str, str]:
        return {"merchant_id": merchant_id, "endpoint_id": endpoint_id}

    def seal(self, merchant_id: str, endpoint_id: str, secret: str) -> bytes:
        sealed = self._kms.encrypt(
            KeyId=self._key_id,
            Plaintext=secret.encode("ascii"),
            EncryptionContext=self._context(merchant_id, endpoint_id),
        )
        return bytes(sealed["CiphertextBlob"])

    def open(self, merchant_id: str, endpoint_id: str, ciphertext: bytes) -> str:
        opened = self._kms.decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=self._context(merchant_id, endpoint_id)
        )
        return bytes(opened["Plaintext"]).decode("ascii")


class EndpointStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
        return to_attributes({"merchant_id": merchant_id, "event_id": endpoint_id})

    def add(self, endpoint: WebhookEndpoint) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_attributes(endpoint.to_item()),
            ConditionExpression="attribute_not_exists(event_id)",
        )

    def get(self, merchant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(merchant_id, endpoint_id), ConsistentRead=True
        ).get("Item")
        return WebhookEndpoint.from_item(from_attributes(item)) if item else None

    def list(self, merchant_id: str) -> list[WebhookEndpoint]:
        """Every endpoint of the merchant (at most contract.MAX_WEBHOOK_ENDPOINTS: one page)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="merchant_id = :m AND begins_with(event_id, :prefix)",
            ExpressionAttributeValues=to_attributes(
                {":m": merchant_id, ":prefix": contract.WEBHOOK_ENDPOINT_ID_PREFIX}
            ),
            ConsistentRead=True,
        )
        return [WebhookEndpoint.from_item(from_attributes(item)) for item in response["Items"]]

    def delete(self, merchant_id: str, endpoint_id: str) -> bool:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(merchant_id, endpoint_id),
                ConditionExpression="attribute_exists(event_id)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def replace_secrets(self, endpoint: WebhookEndpoint, fresh: tuple[StoredSecret, ...]) -> bool:
        """Swap the secrets if the endpoint still exists; False if it was deleted meanwhile."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(endpoint.merchant_id, endpoint.endpoint_id),
                UpdateExpression="SET secrets = :s",
                ConditionExpression="attribute_exists(event_id)",
                ExpressionAttributeValues=to_attributes({":s": [_secret_item(each) for each in fresh]}),
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True


@dataclass(frozen=True)
class Rotation:
    """An endpoint after a secret rotation: its new secret, and when the previous one stops verifying."""

    endpoint: WebhookEndpoint
    secret: str
    previous_secret_expires_at: str


class Endpoints:
    """What the API does with endpoints: every call is under the verified merchant."""

    def __init__(
        self, store: EndpointStore, box: SecretBox, overlap_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._store, self._box, self._overlap, self._clock = store, box, overlap_seconds, clock

    def create(self, merchant_id: str, url: str, enabled_events: tuple[str, ...]) -> tuple[WebhookEndpoint, str]:
        check_url(url)
        if len(self._store.list(merchant_id)) >= contract.MAX_WEBHOOK_ENDPOINTS:
            raise InvalidRequest(
                f"a merchant may register at most {contract.MAX_WEBHOOK_ENDPOINTS} webhook endpoints", "url"
            )
        endpoint_id = contract.WEBHOOK_ENDPOINT_ID_PREFIX + secrets.token_hex(_ID_HEX_BYTES)
        secret = new_secret()
        endpoint = WebhookEndpoint(
            endpoint_id=endpoint_id,
            merchant_id=merchant_id,
            url=url,
            enabled_events=enabled_events,
            status=ENABLED,
            created=format_timestamp(datetime.fromtimestamp(self._clock(), UTC)),
            secrets=(StoredSecret(self._box.seal(merchant_id, endpoint_id, secret)),),
        )
        self._store.add(endpoint)
        return endpoint, secret

    def get(self, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self._store.get(merchant_id, endpoint_id)
        if endpoint is None:
            raise WebhookEndpointNotFound(f"webhook endpoint {endpoint_id} does not exist")
        return endpoint

    def list(self, merchant_id: str) -> list[WebhookEndpoint]:
        return sorted(self._store.list(merchant_id), key=lambda each: (each.created, each.endpoint_id))

    def delete(self, merchant_id: str, endpoint_id: str) -> None:
        if not self._store.delete(merchant_id, endpoint_id):
            raise WebhookEndpointNotFound(f"webhook endpoint {endpoint_id} does not exist")

    def rotate(self, merchant_id: str, endpoint_id: str) -> Rotation:
        """A new current secret; the one in force until now signs too until the overlap ends (a
        secret already rotated out is dropped: at most two sign at once)."""
        endpoint = self.get(merchant_id, endpoint_id)
        now = self._clock()
        expires_at = int(now) + self._overlap
        secret = new_secret()
        current = StoredSecret(self._box.seal(merchant_id, endpoint_id, secret))
        fresh = (current, replace(endpoint.secrets[0], expires_at=expires_at))
        if not self._store.replace_secrets(endpoint, fresh):
            raise WebhookEndpointNotFound(f"webhook endpoint {endpoint_id} does not exist")
        return Rotation(
            endpoint=replace(endpoint, secrets=fresh),
            secret=secret,
            previous_secret_expires_at=format_timestamp(datetime.fromtimestamp(expires_at, UTC)),
        )
