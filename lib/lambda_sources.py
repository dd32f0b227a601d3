"""Where the Lambda code lives, and the stack↔handler contract the stack is built from.

``lambda`` is a Python keyword, so the handlers' tree cannot be imported as a package:
``lambda/shared/payment_core/contract.py`` (stdlib only) is loaded by file path instead.
Every function name, environment variable, index name, S3 prefix and workflow error name
the stack synthesizes comes from that module, so a rename on one side moves both.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROOT = PROJECT_ROOT / "lambda"
CONTRACT_PATH = LAMBDA_ROOT / "shared" / "payment_core" / "contract.py"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only if the file is missing
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Loaded once at import: a dozen constants, no dependencies.
contract: ModuleType = _load("payment_core_contract", CONTRACT_PATH)
FUNCTION_NAMES: tuple[str, ...] = contract.FUNCTION_NAMES


def function_environment_names(function: str) -> tuple[str, ...]:
    """Exactly the variables ``function`` reads (the contract's FUNCTION_ENVIRONMENT)."""
    names: tuple[str, ...] = contract.FUNCTION_ENVIRONMENT[function]
    return names


def function_source_dir(function: str) -> Path:
    return LAMBDA_ROOT / function
