"""What every construct of the platform shares: one frozen context instead of repeated arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion

from lib.naming import Namer


@dataclass(frozen=True)
class PlatformContext:
    """Shared by every construct; each also takes its own slice of the config."""

    namer: Namer
    key: KmsKey  # the platform's CMK: every store, queue, topic and log group uses it
    layer: LambdaLayerVersion  # Powertools + payment_core, on every function
    account_id: str
    region: str
    # Variables every function gets (Powertools' and the payment rules'), from the contract.
    common_environment: Mapping[str, str]
    # Platform-wide telemetry knobs, applied alike by every construct that logs or traces.
    log_retention_days: int
    xray_tracing: bool
