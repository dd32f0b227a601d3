"""Onboard a merchant, rotate or revoke its secret keys, or disable it, on a deployed stack.

``python -m ops.merchant --merchant <id> --outputs <file> [--stack <name>] [--endpoint <url>]
[--region <region>] [--tier <tier>] [--rotate | --revoke <key id>|all | --disable | --pin-version <date>]
[--overlap-hours <h>] [--expires-days <d>]`` prints one JSON line:

* onboarding: creates the merchant's API Gateway API key (a metering identifier in the usage
  plan of its tier: API Gateway throttles and meters each merchant on it, and it authenticates
  nothing) and its first secret key (``sk_...``, valid ``--expires-days``), and writes the
  merchant, the key's SHA-256 and the metering id to the merchants table; prints
  ``{"merchant_id", "tier", "status": "ACTIVE", "secret_key", "key_id", "api_key_id", "expires_at"}``. The
  secret key is shown once, here; the platform keeps only its digest.
* ``--rotate``: a new secret key, printed once; the merchant's other live keys stay valid for
  ``--overlap-hours`` more, then are refused. A merchant onboarded before secret keys gets its
  first one this way (its API key's value becomes its metering id; see docs/operations.md).
* ``--revoke <key id>`` or ``--revoke all``: refused from the next request on.
* ``--pin-version <date>``: the API version (``Payment-Platform-Version``) the merchant's requests
  without that header are served with (onboarding pins the latest); prints
  ``{"merchant_id", "api_version"}``. It applies once the authorizer's cached answer expires.
* ``--disable``: marks the merchant DISABLED (the authorizer refuses it on its next request)
  and disables its API key; prints ``{"merchant_id", "status": "DISABLED", ...}``.

The target is only what the arguments say: the stack's outputs (a ``cdktf deploy
--outputs-file``, ``terraform output -json``, or a flat ``{name: value}``), the AWS endpoint
(default: AWS's own; any AWS-compatible endpoint, such as the local emulator's), and the region
(default: the one the ``api_endpoint_url`` output names). Credentials come from boto3's usual
chain (environment, profile, SSO, role), never from an argument. ``make merchant`` passes these
(by default those of the stack ``make demo KEEP=1`` leaves running). Merchants are data, not
Terraform resources: nothing here touches Terraform state. Errors print ``{"error": ...}`` and
exit 1.
"""

from __future__ import annotations

import argparse
import json
import secrets
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from payment_core.payments.models import format_timestamp, utc_now
from payment_core.tenancy.merchants import (
    ConcurrentChange,
    Merchant,
    MerchantExists,
    MerchantStatus,
    SecretKeyRefused,
    UnknownMerchant,
    valid_merchant_id,
)
from payment_core.tenancy.secret_keys import SecretKey, new_key_id, new_secret_key, secret_digest

from ops.stack_target import OnboardingError, Target, read_outputs

API_KEY_ALPHABET = string.ascii_letters + string.digits
API_KEY_LENGTH = 40  # API Gateway wants at least 20 characters; random so two merchants never share one
# How long a rotated-out secret key still authenticates, and how long any secret key lives.
DEFAULT_OVERLAP_HOURS = 24
MAX_OVERLAP_HOURS = 30 * 24
DEFAULT_EXPIRES_DAYS = 365
MAX_EXPIRES_DAYS = 2 * 365


@dataclass(frozen=True)
class KeyPolicy:
    """How long a new secret key lives and how long the keys it replaces stay valid."""

    expires_days: int = DEFAULT_EXPIRES_DAYS
    overlap_hours: int = DEFAULT_OVERLAP_HOURS

    def __post_init__(self) -> None:
        if not 1 <= self.expires_days <= MAX_EXPIRES_DAYS:
            raise OnboardingError(f"expires-days must be 1 to {MAX_EXPIRES_DAYS}, got {self.expires_days}")
        if not 0 <= self.overlap_hours <= MAX_OVERLAP_HOURS:
            raise OnboardingError(f"overlap-hours must be 0 to {MAX_OVERLAP_HOURS}, got {self.overlap_hours}")
        if self.overlap_hours >= self.expires_days * 24:
            raise OnboardingError(
                f"overlap-hours ({self.overlap_hours}) must be shorter than a key's life"
                f" (expires-days {self.expires_days})"
            )

    def new_key(self, now: datetime) -> tuple[str, SecretKey]:
        """A new secret key (shown once) and what the table keeps of it."""
        secret = new_secret_key()
        key = SecretKey(new_key_id(), secret_digest(secret), now, now + timedelta(days=self.expires_days))
        return secret, key


def new_api_key_value() -> str:
    return "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_LENGTH))


def _issued(merchant: Merchant, secret: str, key: SecretKey) -> dict[str, str]:
    return {
        "merchant_id": merchant.merchant_id,
        "tier": merchant.tier,
        "status": merchant.status.value,
        "secret_key": secret,
        "key_id": key.key_id,
        "api_key_id": merchant.api_key_id,
        "expires_at": format_timestamp(key.expires_at),
    }


def onboard(
    target: Target, merchant_id: str, tier: str | None = None, policy: KeyPolicy | None = None
) -> dict[str, str]:
    if not valid_merchant_id(merchant_id):
        raise OnboardingError("merchant id must be 1-64 letters, digits, '_' or '-'")
    plans = target.usage_plans()
    chosen = tier or ("standard" if "standard" in plans else sorted(plans)[0])
    if chosen not in plans:
        raise OnboardingError(f"unknown tier {chosen!r}; the stack has {', '.join(sorted(plans))}")
    directory = target.directory()
    if directory.get(merchant_id) is not None:
        raise OnboardingError(f"merchant {merchant_id} already exists")
    apigw = target.client("apigateway")
    usage_key = new_api_key_value()
    key = apigw.create_api_key(
        name=f"merchant-{merchant_id}-{plans[chosen]}",
        description=f"metering identifier of merchant {merchant_id} (authenticates nothing)",
        enabled=True,
        value=usage_key,
        tags={"merchant_id": merchant_id},
    )
    secret, first_key = (policy or KeyPolicy()).new_key(utc_now())
    try:
        apigw.create_usage_plan_key(usagePlanId=plans[chosen], keyId=key["id"], keyType="API_KEY")
        merchant = directory.onboard(merchant_id, chosen, usage_key, str(key["id"]), first_key)
    except Exception as error:
        apigw.delete_api_key(apiKey=key["id"])  # no orphan metering key
        if isinstance(error, MerchantExists):
            raise OnboardingError(f"merchant {merchant_id} already exists") from error
        raise
    return _issued(merchant, secret, first_key)


def rotate(target: Target, merchant_id: str, policy: KeyPolicy | None = None) -> dict[str, str]:
    """A new secret key; the merchant's other live keys stay valid for the overlap."""
    policy = policy or KeyPolicy()
    directory = target.directory()
    merchant = directory.get(merchant_id)
    if merchant is None:
        raise OnboardingError(f"merchant {merchant_id} does not exist")
    # Onboarded before secret keys: its API key's value becomes its metering identifier (read
    # once here, where the operator may read API Gateway; it authenticates nothing any more).
    usage_key = None
    if not merchant.usage_key:
        found = target.client("apigateway").get_api_key(apiKey=merchant.api_key_id, includeValue=True)
        usage_key = str(found["value"])
    secret, key = policy.new_key(utc_now())
    try:
        rotated = directory.rotate(merchant_id, key, timedelta(hours=policy.overlap_hours), usage_key)
    except SecretKeyRefused as error:
        raise OnboardingError(str(error)) from error
    except ConcurrentChange as error:
        raise OnboardingError(f"merchant {merchant_id} changed while rotating: run it again") from error
    return _issued(rotated, secret, key) | {"previous_keys_valid_until": _previous_valid_until(rotated, key)}


def _previous_valid_until(merchant: Merchant, new_key: SecretKey) -> str:
    ends = [k.retires_at for k in merchant.secret_keys if k.key_id != new_key.key_id and k.retires_at is not None]
    return format_timestamp(max(ends)) if ends else ""


def revoke(target: Target, merchant_id: str, key_id: str) -> dict[str, Any]:
    """Revoke one secret key, or every one with ``key_id`` ``all``."""
    try:
        merchant = target.directory().revoke(merchant_id, None if key_id == "all" else key_id, utc_now())
    except UnknownMerchant as error:
        raise OnboardingError(f"merchant {merchant_id} does not exist") from error
    except SecretKeyRefused as error:
        raise OnboardingError(str(error)) from error
    except ConcurrentChange as error:
        raise OnboardingError(f"merchant {merchant_id} changed while revoking: run it again") from error
    return {
        "merchant_id": merchant_id,
        "status": merchant.status.value,
        "secret_keys": [key.public() for key in merchant.secret_keys],
    }


def disable(target: Target, merchant_id: str) -> dict[str, str]:
    try:
        merchant = target.directory().set_status(merchant_id, MerchantStatus.DISABLED)
    except UnknownMerchant as error:
        raise OnboardingError(f"merchant {merchant_id} does not exist") from error
    target.client("apigateway").update_api_key(
        apiKey=merchant.api_key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    return {
        "merchant_id": merchant_id,
        "tier": merchant.tier,
        "status": MerchantStatus.DISABLED.value,
        "api_key_id": merchant.api_key_id,
    }


def pin_version(target: Target, merchant_id: str, version: str) -> dict[str, str]:
    """The default API version of the merchant's requests that name none."""
    try:
        merchant = target.directory().set_api_version(merchant_id, version)
    except UnknownMerchant as error:
        raise OnboardingError(f"merchant {merchant_id} does not exist") from error
    except ValueError as error:
        raise OnboardingError(str(error)) from error
    return {"merchant_id": merchant_id, "api_version": merchant.api_version}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.merchant", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--tier", default=None, help="usage-plan tier (default: standard, else the first by name)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--disable", action="store_true", help="disable the merchant (every key refused)")
    action.add_argument("--rotate", action="store_true", help="issue a new secret key (printed once)")
    action.add_argument("--revoke", metavar="KEY_ID", default=None, help="revoke one secret key, or 'all'")
    action.add_argument("--pin-version", metavar="DATE", default=None, help="default API version of its requests")
    parser.add_argument("--overlap-hours", type=int, default=DEFAULT_OVERLAP_HOURS, help="rotated-out keys stay valid")
    parser.add_argument("--expires-days", type=int, default=DEFAULT_EXPIRES_DAYS, help="a new secret key's life")
    parser.add_argument("--outputs", type=Path, required=True, help="the stack's outputs (cdktf --outputs-file, ...)")
    parser.add_argument("--stack", default=None, help="the stack in a cdktf outputs file holding several")
    parser.add_argument("--endpoint", default=None, help="AWS-compatible endpoint URL (default: AWS)")
    parser.add_argument("--region", default=None, help="AWS region (default: the api_endpoint_url's)")
    args = parser.parse_args(argv)
    try:
        policy = KeyPolicy(expires_days=args.expires_days, overlap_hours=args.overlap_hours)
        target = Target(read_outputs(args.outputs, args.stack), args.endpoint, args.region)
        line: Mapping[str, Any]
        if args.disable:
            line = disable(target, args.merchant)
        elif args.rotate:
            line = rotate(target, args.merchant, policy)
        elif args.revoke is not None:
            line = revoke(target, args.merchant, args.revoke)
        elif args.pin_version is not None:
            line = pin_version(target, args.merchant, args.pin_version)
        else:
            line = onboard(target, args.merchant, args.tier, policy)
    except (OnboardingError, ClientError, BotoCoreError) as error:
        # AWS's refusal (no such table in that region, no credentials...) as the command's error line.
        print(json.dumps({"error": str(error), "merchant_id": args.merchant}))
        return 1
    print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
