"""API Gateway as strict as AWS where moto 5.2.5 is not: UpdateResource, and the account's CloudWatch role.

``UpdateResource`` (PATCH /restapis/{api}/resources/{id}) is not implemented:
``moto/apigateway/responses.py`` has no ``update_resource`` and the server answers 500
"The update_resource action has not been implemented". hashicorp/aws calls it when an
``aws_api_gateway_resource`` changes ``path_part`` or ``parent_id`` in place (found by
re-applying tests/localcloud/fixtures/terraform with a renamed path part).

The patch applies the ``replace`` operations on ``/pathPart`` and ``/parentId`` to moto's
Resource (its path is derived from the parent chain) and answers like GetResource.

Logging needs the account's CloudWatch Logs role (one per account and region, set with
``UpdateAccount`` / ``aws_api_gateway_account``). Without it AWS refuses the ``UpdateStage`` that
turns logging on (access log destination, or a method setting's ``logging/loglevel`` other than
``OFF``) with 400 ``BadRequestException`` "CloudWatch Logs role ARN must be set in account settings
to enable logging"; moto accepts it. And ``UpdateAccount`` refuses a role API Gateway cannot assume
with "The role ARN does not have required permissions set to API Gateway" (the message
hashicorp/aws retries on while IAM propagates, internal/service/apigateway/account.go); moto stores
any string. Evidence and tests: localcloud/README.md, tests/localcloud/test_account_prerequisites.py.
"""

from __future__ import annotations

import json
from typing import Any

UPDATABLE = {"/pathPart": "path_part", "/parentId": "parent_id"}

NO_CLOUDWATCH_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
ROLE_NOT_ASSUMABLE = "The role ARN does not have required permissions set to API Gateway"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


def _update_resource(self: Any) -> Any:
    from moto.apigateway.exceptions import BadRequestException

    function_id = self.path.replace("/restapis/", "", 1).split("/")[0]
    resource_id = self.path.rstrip("/").split("/")[-1]
    resource = self.backend.get_resource(function_id, resource_id)
    for operation in self._get_param("patchOperations") or []:
        attribute = UPDATABLE.get(operation.get("path", ""))
        if operation.get("op") != "replace" or attribute is None:
            raise BadRequestException(f"Invalid patch path {operation.get('path')}")
        if attribute == "parent_id":
            self.backend.get_resource(function_id, operation["value"])  # must exist
        setattr(resource, attribute, operation["value"])
    return 200, {}, json.dumps(resource.to_dict())


def enables_logging(operation: dict[str, Any]) -> bool:
    """True for a stage patch operation that turns on access or execution logging."""
    path = str(operation.get("path", ""))
    value = str(operation.get("value") or "")
    if operation.get("op") not in ("replace", "add"):
        return False
    if path == "/accessLogSettings/destinationArn":
        return bool(value)
    return path.endswith("/logging/loglevel") and value.upper() != "OFF"


def _trusts_api_gateway(trust_policy: Any) -> bool:
    document = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        services = (statement.get("Principal") or {}).get("Service", [])
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRole" in ([actions] if isinstance(actions, str) else actions)
            and API_GATEWAY_PRINCIPAL in ([services] if isinstance(services, str) else services)
        ):
            return True
    return False


def _patch_account_role_checks() -> None:
    from moto.apigateway.exceptions import BadRequestException
    from moto.apigateway.models import APIGatewayBackend
    from moto.iam.models import iam_backends

    original_update_stage = APIGatewayBackend.update_stage
    original_update_account = APIGatewayBackend.update_account

    def update_stage(self: Any, function_id: str, stage_name: str, patch_operations: Any) -> Any:
        if self.account.cloudwatch_role_arn is None and any(map(enables_logging, patch_operations or [])):
            raise BadRequestException(NO_CLOUDWATCH_ROLE)
        return original_update_stage(self, function_id, stage_name, patch_operations)

    def update_account(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        for operation in patch_operations or []:
            if operation.get("path") != "/cloudwatchRoleArn":
                continue
            iam = iam_backends[self.account_id][self.partition]
            try:
                role = iam.get_role_by_arn(str(operation.get("value") or ""))
            except Exception as missing:  # moto raises IAMNotFoundException; AWS answers the same 400
                raise BadRequestException(ROLE_NOT_ASSUMABLE) from missing
            if not _trusts_api_gateway(role.assume_role_policy_document):
                raise BadRequestException(ROLE_NOT_ASSUMABLE)
        return original_update_account(self, patch_operations)

    APIGatewayBackend.update_stage = update_stage  # type: ignore[method-assign]
    APIGatewayBackend.update_account = update_account  # type: ignore[method-assign]


def apply() -> None:
    from moto.apigateway.responses import APIGatewayResponse

    responses: Any = APIGatewayResponse
    if not hasattr(responses, "update_resource"):
        responses.update_resource = _update_resource
    _patch_account_role_checks()
