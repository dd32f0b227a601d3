"""The stack's packaging in the emulator: the one code asset every function ships
(``payment_core``), the layer of third-party packages, and a function's handler string."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from payment_core import contract

from lib.lambda_sources import handler_for
from lib.layer import function_code_dir, shared_layer_dir

# Powertools' settings, which the stack gives every function (lib/platform.py's common environment).
POWERTOOLS_ENVIRONMENT = {
    contract.POWERTOOLS_SERVICE_NAME: "payments",
    contract.POWERTOOLS_METRICS_NAMESPACE: "Payments",
    contract.POWERTOOLS_LOG_LEVEL: "INFO",
}


def zip_tree(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, str(path.relative_to(root)))
    return buffer.getvalue()


def create_packaged_function(
    lambdas: Any, role_arn: str, function: str, unique: str, variables: Mapping[str, str], *, timeout: int
) -> str:
    """``function`` (its contract name) as the stack ships it: the shared code asset and its
    handler string, on its own copy of the layer, with ``variables`` beside Powertools' settings.
    Returns the function's ARN."""
    layer = lambdas.publish_layer_version(
        LayerName=f"shared-{unique}",
        Content={"ZipFile": zip_tree(shared_layer_dir())},
        CompatibleRuntimes=["python3.12"],
    )
    created = lambdas.create_function(
        FunctionName=f"{function.replace('_', '-')}-{unique}",
        Runtime="python3.12",
        Role=role_arn,
        Handler=handler_for(function),
        Code={"ZipFile": zip_tree(function_code_dir())},
        Layers=[layer["LayerVersionArn"]],
        Environment={"Variables": {**variables, **POWERTOOLS_ENVIRONMENT}},
        Timeout=timeout,
        MemorySize=256,
    )
    return str(created["FunctionArn"])
