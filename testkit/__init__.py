"""The one harness the tests (``tests/``) and the benchmarks (``bench/``) share.

- ``testkit.environment``: the handlers' environment (one dict, names from the contract).
- ``testkit.handlers``: import ``payment_core.handlers.<function>``, a Lambda context, runtime hooks.
- ``testkit.events``: API Gateway proxy, S3 and SQS events as AWS delivers them.
- ``testkit.account``: the account the handlers touch (tables from the contract's names), in
  moto in-process or behind an endpoint.

``payment_core`` is the installed Lambda package (``lambda/pyproject.toml``). ``lib/`` never
imports this harness.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
