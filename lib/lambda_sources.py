"""Where the Lambda code lives, and the two pieces of it the stack reads at synth time.

``lambda`` is a Python keyword, so the handlers' tree cannot be imported as a package;
the environment contract and the layer builder are loaded by file path instead.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROOT = PROJECT_ROOT / "lambda"
FUNCTION_NAMES = ("api", "workflow", "batch_ingest", "queue_consumer")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only if the file is missing
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def environment_contract() -> ModuleType:
    """``lambda/shared/payment_core/environment.py``: variable names and who reads which."""
    return _load("payment_environment_contract", LAMBDA_ROOT / "shared/payment_core/environment.py")


def function_environment_names(function: str) -> tuple[str, ...]:
    names: tuple[str, ...] = environment_contract().FUNCTION_ENVIRONMENT[function]
    return names


def function_source_dir(function: str) -> Path:
    return LAMBDA_ROOT / function


@cache
def shared_layer_dir() -> Path:
    """Builds (or reuses) the shared layer: pinned packages + payment_core, under build/layer."""
    builder = _load("payment_layer_builder", PROJECT_ROOT / "scripts/build_layer.py")
    layer_dir: Path = builder.build_layer(PROJECT_ROOT)
    return layer_dir
