"""What the emulated AWS account looks like: the per-account, per-region quotas a real account has.

The emulator starts as an account on which nobody has run anything yet, except for the Lambda
concurrency quota, which is set at start (a quota is not an API resource one can create):

* ``LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT`` (default 1000, the documented default quota): the
  account's "Concurrent executions" quota in each region, returned by ``GetAccountSettings`` and
  enforced by ``PutFunctionConcurrency`` (``patches/lambda_account.py``). New AWS accounts get
  less ("New AWS accounts have reduced concurrency and memory quotas", Lambda quotas page);
  ``NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT`` is what the e2e deploy runs against.
* API Gateway's account settings start empty, as on a new account: no CloudWatch Logs role, so a
  stage with logging is refused until ``UpdateAccount`` sets one (``patches/apigateway_api.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LAMBDA_CONCURRENCY_LIMIT_VARIABLE = "LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT"
# "Concurrent executions: 1,000" (default quota, docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
DEFAULT_LAMBDA_CONCURRENCY_LIMIT = 1000
# A new account's reduced quota as accounts report it (e.g. docs.gruntwork.io knowledge base #215).
NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT = 50


def lambda_concurrency_limit(environ: Mapping[str, str] = os.environ) -> int:
    """The account's Lambda concurrency quota from ``LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT``."""
    raw = environ.get(LAMBDA_CONCURRENCY_LIMIT_VARIABLE, "")
    if not raw:
        return DEFAULT_LAMBDA_CONCURRENCY_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{LAMBDA_CONCURRENCY_LIMIT_VARIABLE} must be a whole number of at least 1, got {raw!r}")
    return int(raw)
