"""What every construct of the platform shares: one frozen context instead of repeated arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from lib.config import FunctionSettings
from lib.naming import Namer


@dataclass(frozen=True)
class PlatformContext:
    """Shared by every construct; each also takes its own slice of the config."""

    namer: Namer
    key: KmsKey  # the platform's CMK: every store, queue, topic and log group uses it
    layer: LambdaLayerVersion  # Powertools and the other pinned third-party packages, on every function
    account_id: str
    region: str
    # The ARN partition (aws, aws-us-gov, aws-cn) from the provider's region: no ARN says arn:aws:.
    partition: str
    # The value of every environment variable the platform has built so far (Powertools', the
    # payment rules', then the shared tables' and queues'): each function gets exactly the ones
    # the contract lists for it (lib/components/function.py), so no construct lists them again.
    common_environment: Mapping[str, str]
    # Each function's sizing (memory, timeout, reserved concurrency) by the contract's name.
    function_sizing: Mapping[str, FunctionSettings]
    # Platform-wide telemetry knobs, applied alike by every construct that logs or traces.
    log_retention_days: int
    xray_tracing: bool
    # Where the functions' custom metrics go (Powertools' namespace and "service" dimension).
    metrics_namespace: str
    service_name: str

    def with_environment(self, *values: Mapping[str, str]) -> PlatformContext:
        """This context, with more variables' values for the functions built from here on."""
        merged = dict(self.common_environment)
        for each in values:
            merged.update(each)
        return replace(self, common_environment=merged)

    def log_group(self, scope: Construct, construct_id: str, name: str) -> CloudwatchLogGroup:
        """A log group as every one of the platform's: the CMK and the configured retention."""
        return CloudwatchLogGroup(
            scope, construct_id, name=name, retention_in_days=self.log_retention_days, kms_key_id=self.key.arn
        )

    def queue(self, scope: Construct, construct_id: str, name: str, **options: Any) -> SqsQueue:
        """An SQS queue as every one of the platform's: encrypted with the CMK."""
        return SqsQueue(scope, construct_id, name=name, kms_master_key_id=self.key.arn, **options)
