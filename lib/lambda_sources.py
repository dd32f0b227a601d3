"""Where the Lambda code lives and how each function names its entry point.

All Lambda code is the installable package ``payment_core`` (``lambda/pyproject.toml``,
installed editable into the project's environment), so the stack imports its contract like
any other module: ``from payment_core import contract``. Every function ships the same code
asset (the package, built by ``lib.layer.function_code_dir``) and differs only in its
handler string.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROOT = PROJECT_ROOT / "lambda"
PACKAGE_NAME = "payment_core"
PACKAGE_DIR = LAMBDA_ROOT / PACKAGE_NAME


def handler_for(function: str) -> str:
    """The Lambda handler string of ``function``: its module under ``payment_core.handlers``."""
    return f"{PACKAGE_NAME}.handlers.{function}.handler"
