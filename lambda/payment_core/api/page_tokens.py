"""Opaque, tamper-evident list page tokens bound to the merchant and the query bounds.

``GET /payments`` pages through DynamoDB with ``ExclusiveStartKey``. Handing the raw key to
the client lets an edited or stale token steer the query: a key outside the query's
``from``/``to`` makes DynamoDB answer ``ValidationException`` (a 500), and an edited merchant
would page through someone else's index partition. So the token is

    v2.<MAC key version>.<base64url(JSON of the last key and the issue time)>.<base64url(MAC)>

where the MAC covers the format, the key version, the *caller's merchant and query bounds* (not
written into the token) and the payload. A token replayed for another merchant, another ``from``/``to``,
edited, truncated, or older than ``max_age_seconds`` is refused with ``InvalidRequest``
(400), never passed to DynamoDB. After the MAC check the key is still validated (exact
fields, non-empty strings, same merchant, ``created_at`` within the bounds): the MAC proves
the platform issued it, the checks keep a leaked MAC key from becoming a 500.

Where the MAC comes from is the ``MacSigner`` given to ``PageTokens``: the stack uses KMS
``GenerateMac``/``VerifyMac`` with an HMAC CMK (the key never leaves KMS, nothing secret sits in
Terraform state, the environment or the logs); ``HmacSha256`` is the local implementation for
tests.

The MAC key rotates by version (KMS HMAC keys never rotate by themselves): ``KeyRing`` holds
the current key, which signs, and the previous one, which still verifies the tokens it signed
until the next rotation. A token naming an older version was signed by a retired key:
``InvalidRequest`` with ``RETIRED`` (400), so the client knows to list again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from payment_core.errors import InvalidRequest

# The token format: "v2" names the key version (format v1, before rotation, named none).
VERSION = "v2"
MAX_TOKEN_LENGTH = 2048
DEFAULT_MAX_AGE_SECONDS = 3600
# The payments table key plus the merchant/time index key: what DynamoDB returns as
# LastEvaluatedKey for a query on that index.
PAYMENT_PAGE_KEY_FIELDS = frozenset({"payment_id", "merchant_id", "created_at"})
# The events table's key: what DynamoDB returns as LastEvaluatedKey for a query on it.
EVENT_PAGE_KEY_FIELDS = frozenset({"merchant_id", "event_id"})
_CLOCK_SKEW_SECONDS = 60


class MacSigner(Protocol):
    def generate_mac(self, message: bytes) -> bytes: ...

    def verify_mac(self, message: bytes, mac: bytes) -> bool: ...


@dataclass(frozen=True)
class HmacSha256:
    """A local HMAC-SHA256 signer (tests; the stack signs with KMS)."""

    secret: bytes

    def generate_mac(self, message: bytes) -> bytes:
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def verify_mac(self, message: bytes, mac: bytes) -> bool:
        return hmac.compare_digest(self.generate_mac(message), mac)


MAC_ALGORITHM = "HMAC_SHA_256"
MAC_LENGTH = 32  # bytes of an HMAC-SHA256


class KmsMac:
    """``GenerateMac``/``VerifyMac`` with the stack's HMAC_256 KMS key (key material stays in KMS)."""

    # ``client`` is a boto3 KMS client (Any: the project carries no mypy_boto3_kms stubs).
    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def generate_mac(self, message: bytes) -> bytes:
        answer = self._client.generate_mac(KeyId=self._key_id, Message=message, MacAlgorithm=MAC_ALGORITHM)
        return bytes(answer["Mac"])

    def verify_mac(self, message: bytes, mac: bytes) -> bool:
        if len(mac) != MAC_LENGTH:
            return False  # not one of ours; no KMS call for junk
        try:
            answer = self._client.verify_mac(KeyId=self._key_id, Message=message, Mac=mac, MacAlgorithm=MAC_ALGORITHM)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "KMSInvalidMacException":
                return False
            raise
        return bool(answer["MacValid"])


@dataclass(frozen=True)
class KeyRing:
    """The MAC keys tokens may name: ``current`` (version ``current_version``) signs; ``previous``
    (version ``current_version - 1``, None at version 1) only verifies."""

    current_version: int
    current: MacSigner
    previous: MacSigner | None = None

    def __post_init__(self) -> None:
        if self.current_version < 1:
            raise ValueError(f"current_version must be at least 1, got {self.current_version}")
        if self.current_version == 1 and self.previous is not None:
            raise ValueError("version 1 has no previous key")

    def verifier(self, version: int) -> MacSigner | None:
        """The key that signed tokens of ``version``; None for a retired (older) version."""
        if version == self.current_version:
            return self.current
        if version == self.current_version - 1:
            return self.previous
        return None


@dataclass(frozen=True)
class PageQuery:
    """What a token is bound to: the caller's merchant and the query's bounds (and its other
    filters, ``filters``: e.g. an event type; empty for payments, whose tokens it leaves as they were)."""

    merchant_id: str
    created_from: str
    created_to: str
    filters: str = ""


INVALID = "next_token is not a token this API issued for this query"
EXPIRED = "next_token has expired; list again without it"
RETIRED = "next_token was signed with a retired key; list again without it"


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signed_message(key_version: int, query: PageQuery, payload: str) -> bytes:
    # Newline-separated: none of the parts can hold a newline (merchant ids, timestamps and
    # filters are validated before this, the payload is base64url).
    parts = (VERSION, str(key_version), query.merchant_id, query.created_from, query.created_to)
    return "\n".join((*parts, *((query.filters,) if query.filters else ()), payload)).encode()


def _key_version(text: str) -> int | None:
    # Plain decimal, no sign or leading zero: one spelling per version.
    if not (0 < len(text) <= 6 and text.isascii() and text.isdigit() and text[0] != "0"):
        return None
    return int(text)


class PageTokens:
    def __init__(
        self,
        keys: KeyRing | MacSigner,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        key_fields: frozenset[str] = PAYMENT_PAGE_KEY_FIELDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A lone signer is version 1 with no previous key (tests, and a stack never rotated).
        self._keys = keys if isinstance(keys, KeyRing) else KeyRing(1, keys)
        self._max_age = max_age_seconds
        self._key_fields = key_fields
        self._clock = clock

    def issue(self, query: PageQuery, last_key: Mapping[str, str]) -> str:
        document = {"k": dict(last_key), "iat": int(self._clock())}
        payload = _b64encode(json.dumps(document, sort_keys=True, separators=(",", ":")).encode())
        version = self._keys.current_version
        mac = self._keys.current.generate_mac(_signed_message(version, query, payload))
        return f"{VERSION}.{version}.{payload}.{_b64encode(mac)}"

    def read(self, token: str, query: PageQuery) -> dict[str, str]:
        """The start key a token carries, or ``InvalidRequest`` (field ``next_token``)."""
        invalid = InvalidRequest(INVALID, "next_token")
        if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise invalid
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise invalid
        version_text, payload, mac_text = parts[1:]
        version = _key_version(version_text)
        if version is None or version > self._keys.current_version:
            raise invalid
        verifier = self._keys.verifier(version)
        if verifier is None:
            raise InvalidRequest(RETIRED, "next_token")
        try:
            mac = _b64decode(mac_text)
        except (binascii.Error, ValueError) as exc:
            raise invalid from exc
        if not verifier.verify_mac(_signed_message(version, query, payload), mac):
            raise invalid
        try:
            document = json.loads(_b64decode(payload).decode("utf-8"))
        except (binascii.Error, ValueError, RecursionError) as exc:
            raise invalid from exc
        if not isinstance(document, dict) or set(document) != {"k", "iat"} or type(document["iat"]) is not int:
            raise invalid
        now = self._clock()
        if document["iat"] > now + _CLOCK_SKEW_SECONDS:
            raise invalid
        if document["iat"] + self._max_age < now:
            raise InvalidRequest(EXPIRED, "next_token")
        return self._checked_key(document["k"], query, invalid)

    def _checked_key(self, key: object, query: PageQuery, invalid: InvalidRequest) -> dict[str, str]:
        if not isinstance(key, dict) or set(key) != self._key_fields:
            raise invalid
        if not all(isinstance(value, str) and value for value in key.values()):
            raise invalid
        if key.get("merchant_id", query.merchant_id) != query.merchant_id:
            raise invalid
        created_at = key.get("created_at")
        if created_at is not None and not query.created_from <= created_at <= query.created_to:
            raise invalid
        return {str(name): str(value) for name, value in key.items()}
