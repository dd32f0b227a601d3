"""The one harness the tests (``tests/``) and the benchmarks (``bench/``) share.

- ``testkit.environment``: the handlers' environment (one dict, names from the contract).
- ``testkit.handlers``: load ``lambda/<function>/handler.py``, a Lambda context, runtime hooks.
- ``testkit.events``: API Gateway proxy, S3 and SQS events as AWS delivers them.
- ``testkit.account``: the account the handlers touch (tables from the contract's names), in
  moto in-process or behind an endpoint.

Importing it puts ``lambda/shared`` on ``sys.path``, so ``payment_core`` imports as in the layer.
``lib/`` never imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda"
SHARED_DIR = LAMBDA_DIR / "shared"

if str(SHARED_DIR) not in sys.path:
    sys.path.insert(0, str(SHARED_DIR))
