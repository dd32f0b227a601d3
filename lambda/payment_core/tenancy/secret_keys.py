"""Merchants' secret keys: the credential only the merchant holds.

A merchant authenticates with ``Authorization: Bearer sk_<48 letters and digits>`` (about
285 random bits). The platform keeps only the key's SHA-256 (a digest of that much randomness
cannot be reversed or guessed, so no slow hash is needed) and, per key, a public id
(``key_<hex>``, what an operator revokes by), when it was issued, when it expires, when it
retires (the end of its overlap after a rotation) and when it was revoked. API Gateway holds
no credential: its API keys are metering identifiers, handed back by the authorizer as
``usageIdentifierKey``, that authenticate nothing.

A key is refused for exactly one reason, checked in this order: the header is missing or not
a well-formed bearer secret (refused before any table read), no key has that digest, the
merchant is disabled, the key was revoked, it expired, its overlap after a rotation ended.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from payment_core import contract
from payment_core.payments.models import format_timestamp

SECRET_KEY_PREFIX = contract.SECRET_KEY_PREFIX
SECRET_KEY_RANDOM_LENGTH = contract.SECRET_KEY_RANDOM_LENGTH
_SECRET_KEY = re.compile(rf"{SECRET_KEY_PREFIX}[A-Za-z0-9]{{{SECRET_KEY_RANDOM_LENGTH}}}")
_ALPHABET = string.ascii_letters + string.digits
# RFC 6750: ``Bearer`` then one space, then the token.
_BEARER = re.compile(r"bearer (?P<secret>\S+)", re.IGNORECASE)  # RFC 7235: the scheme is case-insensitive


class CredentialCheck(StrEnum):
    """The authorizer's verdict on a presented credential (logged and counted; never the key)."""

    ALLOWED = "allowed"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    MERCHANT_DISABLED = "merchant_disabled"
    REVOKED = "revoked"
    EXPIRED = "expired"
    OVERLAP_ENDED = "overlap_ended"


def new_secret_key() -> str:
    return SECRET_KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_KEY_RANDOM_LENGTH))


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def bearer_secret(headers: Mapping[str, Any] | None) -> str | None:
    """The secret key of an ``Authorization: Bearer sk_...`` header, or None if absent or malformed."""
    value = next(
        (str(v) for k, v in (headers or {}).items() if k.lower() == contract.CREDENTIAL_HEADER.lower() and v), None
    )
    found = _BEARER.fullmatch(value) if value is not None else None
    if found is None or _SECRET_KEY.fullmatch(found.group("secret")) is None:
        return None
    return found.group("secret")


@dataclass(frozen=True)
class SecretKey:
    """One of a merchant's secret keys, as the merchant item keeps it (never the key itself)."""

    key_id: str
    digest: str
    created_at: datetime
    expires_at: datetime
    retires_at: datetime | None = None  # set by a rotation: the end of the overlap
    revoked_at: datetime | None = None

    def refusal(self, now: datetime) -> CredentialCheck | None:
        """Why the key no longer authenticates at ``now``, or None while it does."""
        if self.revoked_at is not None:
            return CredentialCheck.REVOKED
        if now >= self.expires_at:
            return CredentialCheck.EXPIRED
        if self.retires_at is not None and now >= self.retires_at:
            return CredentialCheck.OVERLAP_ENDED
        return None

    def live(self, now: datetime) -> bool:
        return self.refusal(now) is None

    def retired_by(self, retires_at: datetime) -> SecretKey:
        """This key once a rotation at ``retires_at - overlap`` replaced it (an earlier end stays)."""
        if self.retires_at is not None and self.retires_at <= retires_at:
            return self
        return replace(self, retires_at=retires_at)

    def to_item(self) -> dict[str, str]:
        item = {
            "digest": self.digest,
            "created_at": format_timestamp(self.created_at),
            "expires_at": format_timestamp(self.expires_at),
        }
        for name, when in (("retires_at", self.retires_at), ("revoked_at", self.revoked_at)):
            if when is not None:
                item[name] = format_timestamp(when)
        return item

    @classmethod
    def from_item(cls, key_id: str, item: Mapping[str, Any]) -> SecretKey:
        def when(name: str) -> datetime | None:
            return datetime.fromisoformat(str(item[name])) if item.get(name) else None

        return cls(
            key_id=key_id,
            digest=str(item["digest"]),
            created_at=datetime.fromisoformat(str(item["created_at"])),
            expires_at=datetime.fromisoformat(str(item["expires_at"])),
            retires_at=when("retires_at"),
            revoked_at=when("revoked_at"),
        )

    def public(self) -> dict[str, str]:
        """What an operator may see of the key (``make merchant`` prints it): no digest."""
        shown = {k: v for k, v in self.to_item().items() if k != "digest"}
        return {"key_id": self.key_id, **shown}
