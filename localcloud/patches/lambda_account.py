"""The account's Lambda concurrency quota: ``GetAccountSettings`` and the ``PutFunctionConcurrency`` refusal.

AWS (PutFunctionConcurrency API reference): "You can reserve concurrency for as many functions as
you like, as long as you leave at least 100 simultaneous executions unreserved for functions that
aren't configured with a per-function limit." Past that it answers 400
``InvalidParameterValueException`` "Specified ReservedConcurrentExecutions for function decreases
account's UnreservedConcurrentExecution below its minimum value of [100]." On an account whose
quota is below 100 the minimum is the quota itself: a new account with a quota of 50 is refused
with "... minimum value of [50]." (docs.gruntwork.io knowledge base #215), i.e. it cannot reserve
anything but 0.

moto 5.2.5 has no ``GetAccountSettings`` (no URL, no response method) and enforces the rule only
when ``MOTO_LAMBDA_CONCURRENCY_QUOTA`` is set, always with "[100]". The patch adds the operation
and replaces the check, with the quota from ``localcloud.account`` (read once at start).

The quota changes the way it does on AWS: Service Quotas ``RequestServiceQuotaIncrease`` for
Lambda's "Concurrent executions" (``L-B99A9384``). The emulator grants it at once (AWS reviews
it: ``PENDING`` then ``APPROVED``), and never lowers the quota (AWS refuses a value not above the
current one). ``GetServiceQuota`` for that code reports the current quota. moto has neither.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.account import lambda_concurrency_limit

# AWS keeps this many executions unreserved (or the whole quota, when it is smaller).
MINIMUM_UNRESERVED = 100
# AccountLimit fields other than concurrency, at their documented defaults (Lambda quotas page):
# 75 GB of code storage, 250 MB unzipped, 50 MB zipped (direct upload).
TOTAL_CODE_SIZE_BYTES = 75 * 1024**3
CODE_SIZE_UNZIPPED_BYTES = 250 * 1024**2
CODE_SIZE_ZIPPED_BYTES = 50 * 1024**2

ACCOUNT_SETTINGS_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"
# Service Quotas' code for Lambda's "Concurrent executions".
CONCURRENCY_QUOTA_CODE = "L-B99A9384"


class _Quota:
    concurrent_executions = 0


QUOTA = _Quota()


def _reserved(backend: Any, *, except_function: str | None = None) -> int:
    return sum(
        int(function.reserved_concurrency)
        for function in backend.list_functions()
        if function.reserved_concurrency is not None and function.function_name != except_function
    )


def _put_function_concurrency(self: Any, function_name: str, reserved_concurrency: Any) -> int:
    from moto.awslambda.exceptions import InvalidParameterValueException

    function = self.get_function(function_name)
    requested = int(reserved_concurrency)
    limit = QUOTA.concurrent_executions
    minimum = min(MINIMUM_UNRESERVED, limit)
    # The function's own current reservation is replaced, not added to.
    unreserved_after = limit - _reserved(self, except_function=function.function_name) - requested
    if unreserved_after < minimum:
        raise InvalidParameterValueException(
            "Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
        )
    function.reserved_concurrency = requested
    return requested


def account_settings(backend: Any) -> dict[str, Any]:
    """GetAccountSettings as AWS answers it, for this account and region."""
    functions = list(backend.list_functions())
    limit = QUOTA.concurrent_executions
    return {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE_BYTES,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED_BYTES,
            "CodeSizeZipped": CODE_SIZE_ZIPPED_BYTES,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - _reserved(backend),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(function.code_size or 0) for function in functions),
            "FunctionCount": len(functions),
        },
    }


def _get_account_settings(self: Any) -> tuple[int, dict[str, str], str]:
    return 200, {}, json.dumps(account_settings(self.backend))


def _concurrency_quota(request: Any) -> dict[str, Any]:
    arn = f"arn:aws:servicequotas:{request.region}:{request.current_account}:lambda/{CONCURRENCY_QUOTA_CODE}"
    return {
        "ServiceCode": "lambda",
        "ServiceName": "AWS Lambda",
        "QuotaArn": arn,
        "QuotaCode": CONCURRENCY_QUOTA_CODE,
        "QuotaName": "Concurrent executions",
        "Value": float(QUOTA.concurrent_executions),
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


def _is_concurrency_quota(params: dict[str, Any]) -> bool:
    return params.get("ServiceCode") == "lambda" and params.get("QuotaCode") == CONCURRENCY_QUOTA_CODE


def _patch_service_quotas() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.servicequotas.responses import ServiceQuotasResponse

    original_get = ServiceQuotasResponse.get_service_quota

    def get_service_quota(self: Any) -> str:
        if not _is_concurrency_quota(json.loads(self.body)):
            return original_get(self)
        return json.dumps({"Quota": _concurrency_quota(self)})

    def request_service_quota_increase(self: Any) -> str:
        params = json.loads(self.body)
        if not _is_concurrency_quota(params):
            raise JsonRESTError(
                "NoSuchResourceException", "The request failed because the specified quota doesn't exist."
            )
        desired = int(float(params["DesiredValue"]))
        if desired <= QUOTA.concurrent_executions:
            raise JsonRESTError(
                "IllegalArgumentException",
                f"The requested value {desired} must be greater than the current value {QUOTA.concurrent_executions}.",
            )
        QUOTA.concurrent_executions = desired
        quota = _concurrency_quota(self)
        request = {key: quota[key] for key in ("ServiceCode", "ServiceName", "QuotaCode", "QuotaName", "QuotaArn")}
        return json.dumps({"RequestedQuota": {**request, "DesiredValue": float(desired), "Status": "APPROVED"}})

    responses: Any = ServiceQuotasResponse
    responses.get_service_quota = get_service_quota
    responses.request_service_quota_increase = request_service_quota_increase


def apply() -> None:
    from moto.awslambda import urls
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse

    QUOTA.concurrent_executions = lambda_concurrency_limit()
    urls.url_paths.setdefault(ACCOUNT_SETTINGS_PATH, LambdaResponse.dispatch)
    responses: Any = LambdaResponse
    responses.get_account_settings = _get_account_settings
    LambdaBackend.put_function_concurrency = _put_function_concurrency  # type: ignore[assignment,method-assign]
    _patch_service_quotas()
