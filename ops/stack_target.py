"""A deployed stack as ``make merchant`` reaches it: its outputs, its AWS endpoint and region.

The target is only what the arguments say: the stack's outputs (a ``cdktf deploy
--outputs-file``, ``terraform output -json``, or a flat ``{name: value}``), the AWS endpoint
(default: AWS's own; any AWS-compatible endpoint, such as the local emulator's), and the region
(default: the one the ``api_endpoint_url`` output names). Credentials come from boto3's usual
chain (environment, profile, SSO, role), never from an argument.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from payment_core.tenancy.merchants import MerchantDirectory

_INVOKE_URL = re.compile(r"^https?://(?P<api_id>[^.]+)\.execute-api\.(?P<region>[^.]+)\.[^/]+/(?P<stage>[^/]+)/?$")
# The API on its custom domain (edge.custom_domain_required): the stage is mapped at its root.
_DOMAIN_URL = re.compile(r"^https://(?P<domain>[^/]+)/?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


class OnboardingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Credentials:
    """Static credentials for an endpoint that needs no real ones (the local emulator)."""

    access_key_id: str
    secret_access_key: str

    def client_arguments(self) -> dict[str, str]:
        """As ``boto3.client`` takes them."""
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}


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
        """The REST API's id and its stage (what a request is routed by): as the invoke URL names them,
        or, for an API on its custom domain, as the domain's root base path mapping does."""
        url = str(self.outputs.get("api_endpoint_url", ""))
        domain = _DOMAIN_URL.match(url)
        if domain is None or _INVOKE_URL.match(url):
            invoke_url = self._invoke_url()
            return invoke_url.group("api_id"), invoke_url.group("stage")
        mappings = self.client("apigateway").get_base_path_mappings(domainName=domain.group("domain"))
        root = [item for item in mappings.get("items", []) if item.get("basePath") in ("(none)", "")]
        if len(root) != 1:
            raise OnboardingError(f"the custom domain {domain.group('domain')} maps no API at its root")
        return str(root[0]["restApiId"]), str(root[0]["stage"])

    def _invoke_url(self) -> re.Match[str]:
        match = _INVOKE_URL.match(str(self.outputs.get("api_endpoint_url", "")))
        if match is None:
            raise OnboardingError(f"unexpected api_endpoint_url: {self.outputs.get('api_endpoint_url')!r}")
        return match

    def client(self, service: str) -> Any:
        keys = {} if self.credentials is None else self.credentials.client_arguments()
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
