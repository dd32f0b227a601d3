"""``make merchant MERCHANT=<id> [TIER=<tier>] [DISABLE=1] [OUTPUTS=<cdktf outputs file>]``.

Onboards a merchant on a deployed stack, or revokes it, and prints one JSON line:

* onboarding: creates the merchant's API Gateway API key (a random 40-character value),
  puts it in the usage plan of the merchant's tier (API Gateway throttles and meters each
  merchant on its own key), and writes the merchant and the key's SHA-256 to the merchants
  table; prints ``{"merchant_id", "tier", "status": "ACTIVE", "api_key", "api_key_id"}``.
  The key is shown once, here; the platform keeps only its digest.
* ``DISABLE=1``: marks the merchant DISABLED (the authorizer refuses it on its next request)
  and disables its API key; prints ``{"merchant_id", "status": "DISABLED", ...}``.

Merchants are data, not Terraform resources: nothing here touches the stack's Terraform
state. Target: the stack ``make demo KEEP=1`` leaves (default: endpoint from
``.localcloud/demo/endpoint``, outputs from ``terraform output -json`` of its stack
directory), or a real one given its ``cdktf deploy --outputs-file`` (AWS credentials from
the usual chain). Errors print ``{"error": ...}`` and exit 1.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import string
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from payment_core.tenancy.merchants import (
    MerchantDirectory,
    MerchantExists,
    MerchantStatus,
    UnknownMerchant,
    valid_merchant_id,
)

ROOT = Path(__file__).resolve().parent.parent

DEMO_STATE_DIR = ROOT / ".localcloud" / "demo"
DEMO_STACK_DIR = DEMO_STATE_DIR / "cdktf.out" / "stacks" / "TapStackdemo"
_INVOKE_URL = re.compile(r"^https?://(?P<api_id>[^.]+)\.execute-api\.(?P<region>[^.]+)\.[^/]+/(?P<stage>[^/]+)/?$")
API_KEY_ALPHABET = string.ascii_letters + string.digits
API_KEY_LENGTH = 40  # ~238 bits; API Gateway wants at least 20 characters


class OnboardingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    """Where the stack runs and what its outputs say."""

    outputs: Mapping[str, Any]
    endpoint: str | None  # None: real AWS

    @property
    def region(self) -> str:
        return self._invoke_url().group("region")

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
        if self.endpoint is None:
            return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        from localcloud.provider import TEST_ACCESS_KEY, TEST_SECRET_KEY

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=TEST_ACCESS_KEY,
            aws_secret_access_key=TEST_SECRET_KEY,
        )

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise OnboardingError(f"the stack has no output {name!r} (deployed before merchants existed?)")
        return self.outputs[name]

    def directory(self) -> MerchantDirectory:
        return MerchantDirectory(self.client("dynamodb"), str(self.output("merchants_table_name")))

    def usage_plans(self) -> dict[str, str]:
        plans = self.output("merchant_usage_plan_ids")
        return dict(json.loads(plans) if isinstance(plans, str) else plans)


def read_outputs(path: Path) -> dict[str, Any]:
    """A cdktf ``--outputs-file`` (``{stack: {name: value}}``), ``terraform output -json``
    (``{name: {"value": ...}}``) or a flat ``{name: value}``."""
    raw = json.loads(path.read_text())
    if isinstance(raw, dict) and len(raw) == 1 and isinstance(next(iter(raw.values())), dict):
        only = next(iter(raw.values()))
        if "api_endpoint_url" in only:
            raw = only
    return {
        name: (value["value"] if isinstance(value, dict) and "value" in value else value) for name, value in raw.items()
    }


def demo_target() -> Target:
    endpoint_file = DEMO_STATE_DIR / "endpoint"
    if not endpoint_file.exists() or not DEMO_STACK_DIR.exists():
        raise OnboardingError("no stack from `make demo KEEP=1` is running; give OUTPUTS=<cdktf outputs file>")
    result = subprocess.run(
        ["terraform", "output", "-json"], cwd=DEMO_STACK_DIR, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise OnboardingError(f"terraform output failed: {result.stderr.strip()[:300]}")
    raw = json.loads(result.stdout)
    return Target({name: value["value"] for name, value in raw.items()}, endpoint_file.read_text().strip())


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
    parser = argparse.ArgumentParser(prog="make merchant", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--tier", default=None)
    parser.add_argument("--disable", action="store_true")
    parser.add_argument("--outputs", type=Path, default=None, help="cdktf outputs file of a real deployment")
    parser.add_argument("--endpoint", default=None, help="emulator endpoint (with --outputs, for a local stack)")
    args = parser.parse_args(argv)
    try:
        target = Target(read_outputs(args.outputs), args.endpoint) if args.outputs else demo_target()
        line = disable(target, args.merchant) if args.disable else onboard(target, args.merchant, args.tier)
    except OnboardingError as error:
        print(json.dumps({"error": str(error), "merchant_id": args.merchant}))
        return 1
    print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
