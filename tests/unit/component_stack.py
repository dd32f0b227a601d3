"""One component alone in a bare stack: a ``PlatformContext`` with a key and a layer of its own
and no platform around it, for tests of what one construct builds from its inputs."""

from __future__ import annotations

from typing import Any


def bare_context(stack: Any, suffix: str, **telemetry: Any) -> Any:
    """A context in ``stack`` named by ``suffix``, with no function variables or sizing;
    ``telemetry`` overrides the tracing and metric fields."""
    from cdktf_cdktf_provider_aws.kms_key import KmsKey
    from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion

    from lib.components.context import PlatformContext
    from lib.naming import Namer

    fields: dict[str, Any] = {
        "xray_tracing": True,
        "metrics_namespace": "PaymentPlatform",
        "service_name": "payment-platform",
        **telemetry,
    }
    return PlatformContext(
        namer=Namer(suffix),
        key=KmsKey(stack, "key"),
        layer=LambdaLayerVersion(stack, "layer", layer_name="layer"),
        account_id="123456789012",
        region="us-east-1",
        partition="aws",
        common_environment={},
        function_sizing={},
        log_retention_days=14,
        **fields,
    )
