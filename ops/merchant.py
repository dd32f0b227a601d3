"""Onboard or revoke a merchant on a deployed stack, given that stack's outputs.

``python -m ops.merchant --merchant <id> --outputs <file> [--stack <name>] [--endpoint <url>]
[--region <region>] [--tier <tier>] [--disable]`` prints one JSON line:

* onboarding: creates the merchant's API Gateway API key (a random 40-character value),
  puts it in the usage plan of the merchant's tier (API Gateway throttles and meters each
  merchant on its own key), and writes the merchant and the key's SHA-256 to the merchants
  table; prints ``{"merchant_id", "tier", "status": "ACTIVE", "api_key", "api_key_id"}``.
  The key is shown once, here; the platform keeps only its digest.
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
import re
import secrets
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from payment_core.tenancy.merchants import (
    MerchantDirectory,
    MerchantExists,
    MerchantStatus,
    UnknownMerchant,
    valid_merchant_id,
)

_INVOKE_URL = re.compile(r"^https?://(?P<api_id>[^.]+)\.execute-api\.(?P<region>[^.]+)\.[^/]+/(?P<stage>[^/]+)/?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
API_KEY_ALPHABET = string.ascii_letters + string.digits
API_KEY_LENGTH = 40  # ~238 bits; API Gateway wants at least 20 characters


class OnboardingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Credentials:
    """Static credentials for an endpoint that needs no real ones (the local emulator)."""

    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class Target:
    """A deployed stack: what its outputs say, and where and how to reach its AWS APIs."""

    outputs: Mapping[str, Any]
    endpoint: str | None = None  # None: AWS's own endpoints
    region_name: str | None = None  # None: the region the api_endpoint_url output names
    credentials: Credentials | None = None  # None: boto3's default chain

    def __post_init__(self) -> None:
        if self.endpoint is not None:
            parts = urlsplit(self.endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise OnboardingError(
                    f"endpoint must be an http(s) URL such as http://127.0.0.1:4566, got {self.endpoint!r}"
                )
        if self.region_name is not None and not _REGION.match(self.region_name):
            raise OnboardingError(f"region must be an AWS region such as eu-west-1, got {self.region_name!r}")

    @property
    def region(self) -> str:
        return self.region_name or self._invoke_url().group("region")

    def api_and_stage(self) -> tuple[str, str]:
        """The REST API's id and its stage, as the invoke URL names them (what a request is routed by)."""
        invoke_url = self._invoke_url()
        return invoke_url.group("api_id"), invoke_url.group("stage")

    def _invoke_url(self) -> re.Match[str]:
        match = _INVOKE_URL.match(str(self.outputs.get("api_endpoint_url", "")))
        if match is None:
            raise OnboardingError(f"unexpected api_endpoint_url: {self.outputs.get('api_endpoint_url')!r}")
        return match

    def client(self, service: str) -> Any:
        keys = (
            {}
            if self.credentials is None
            else {
                "aws_access_key_id": self.credentials.access_key_id,
                "aws_secret_access_key": self.credentials.secret_access_key,
            }
        )
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region, **keys)  # type: ignore[call-overload]

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise OnboardingError(f"the stack has no output {name!r} (deployed before merchants existed?)")
        return self.outputs[name]

    def directory(self) -> MerchantDirectory:
        return MerchantDirectory(self.client("dynamodb"), str(self.output("merchants_table_name")))

    def usage_plans(self) -> dict[str, str]:
        plans = self.output("merchant_usage_plan_ids")
        return dict(json.loads(plans) if isinstance(plans, str) else plans)


def read_outputs(path: Path, stack: str | None = None) -> dict[str, Any]:
    """The outputs of one stack from a cdktf ``--outputs-file`` (``{stack: {name: value}}``, one
    entry per deployed stack: ``make deploy`` writes ``TapAccount``'s beside the environment's),
    ``terraform output -json`` (``{name: {"value": ...}}``) or a flat ``{name: value}``.

    Without ``stack``, a cdktf file's stack is the one with an ``api_endpoint_url`` output."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as missing:
        raise OnboardingError(f"outputs file {path} does not exist") from missing
    except json.JSONDecodeError as error:
        raise OnboardingError(f"outputs file {path} is not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise OnboardingError(f"outputs file {path} is not a JSON object")
    stacks = {name: value for name, value in raw.items() if isinstance(value, dict) and "value" not in value}
    if stack is not None:
        if stack not in stacks:
            raise OnboardingError(f"outputs file {path} has no stack {stack!r}; it has {', '.join(sorted(stacks))}")
        raw = stacks[stack]
    elif stacks and len(stacks) == len(raw):
        platforms = sorted(name for name, outputs in stacks.items() if "api_endpoint_url" in outputs)
        if len(platforms) != 1:
            found = ", ".join(platforms) or "none"
            raise OnboardingError(f"outputs file {path}: give --stack, stacks with an api_endpoint_url: {found}")
        raw = stacks[platforms[0]]
    return {
        name: (value["value"] if isinstance(value, dict) and "value" in value else value) for name, value in raw.items()
    }


def new_api_key_value() -> str:
    return "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_LENGTH))


def onboard(target: Target, merchant_id: str, tier: str | None = None) -> dict[str, str]:
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
    value = new_api_key_value()
    key = apigw.create_api_key(
        name=f"merchant-{merchant_id}-{plans[chosen]}",
        description=f"credential of merchant {merchant_id}",
        enabled=True,
        value=value,
        tags={"merchant_id": merchant_id},
    )
    try:
        apigw.create_usage_plan_key(usagePlanId=plans[chosen], keyId=key["id"], keyType="API_KEY")
        directory.onboard(merchant_id, chosen, value, key["id"])
    except Exception as error:
        apigw.delete_api_key(apiKey=key["id"])  # no orphan credential
        if isinstance(error, MerchantExists):
            raise OnboardingError(f"merchant {merchant_id} already exists") from error
        raise
    return {
        "merchant_id": merchant_id,
        "tier": chosen,
        "status": MerchantStatus.ACTIVE.value,
        "api_key": value,
        "api_key_id": str(key["id"]),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.merchant", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--tier", default=None, help="usage-plan tier (default: standard, else the first by name)")
    parser.add_argument("--disable", action="store_true", help="revoke the merchant and its API key")
    parser.add_argument("--outputs", type=Path, required=True, help="the stack's outputs (cdktf --outputs-file, ...)")
    parser.add_argument("--stack", default=None, help="the stack in a cdktf outputs file holding several")
    parser.add_argument("--endpoint", default=None, help="AWS-compatible endpoint URL (default: AWS)")
    parser.add_argument("--region", default=None, help="AWS region (default: the api_endpoint_url's)")
    args = parser.parse_args(argv)
    try:
        target = Target(read_outputs(args.outputs, args.stack), args.endpoint, args.region)
        line = disable(target, args.merchant) if args.disable else onboard(target, args.merchant, args.tier)
    except (OnboardingError, ClientError, BotoCoreError) as error:
        # AWS's refusal (no such table in that region, no credentials...) as the command's error line.
        print(json.dumps({"error": str(error), "merchant_id": args.merchant}))
        return 1
    print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
