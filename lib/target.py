"""Where a stack deploys when it is not the account's real AWS endpoints, and what the provider
needs to get there.

Only the provider changes with the target: the resources are the same as a real deployment's.
``lib/`` defines the shape; whoever knows the target (``tap.py`` for the local emulator, through
``localcloud.provider``) fills it in and passes it to ``TapStack``. Stdlib only, so the emulator
can import it without loading the AWS provider bindings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_ENDPOINT_PATTERN = re.compile(r"https?://[^/\s]+")


@dataclass(frozen=True)
class EmulatorTarget:
    """The local emulator's endpoint, read from ``LOCAL_CLOUD_ENDPOINT``."""

    endpoint_url: str

    def __post_init__(self) -> None:
        if not _ENDPOINT_PATTERN.fullmatch(self.endpoint_url):
            raise ValueError(f"endpoint_url must look like http://host:port, got {self.endpoint_url!r}")


@dataclass(frozen=True)
class ProviderOverrides:
    """AWS provider arguments (Terraform names) that aim it at another target than real AWS."""

    access_key: str
    secret_key: str
    skip_credentials_validation: bool
    skip_requesting_account_id: bool
    skip_metadata_api_check: bool
    skip_region_validation: bool
    s3_use_path_style: bool
    max_retries: int
    # Terraform service name (``lambda``, ``sfn``, ...) -> endpoint URL.
    endpoints: Mapping[str, str]
