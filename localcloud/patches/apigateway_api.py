"""API Gateway actions the Terraform provider calls on update and moto 5.2.5 lacks.

``UpdateResource`` (PATCH /restapis/{api}/resources/{id}) is not implemented:
``moto/apigateway/responses.py`` has no ``update_resource`` and the server answers 500
"The update_resource action has not been implemented". hashicorp/aws calls it when an
``aws_api_gateway_resource`` changes ``path_part`` or ``parent_id`` in place (found by
re-applying tests/localcloud/fixtures/terraform with a renamed path part).

The patch applies the ``replace`` operations on ``/pathPart`` and ``/parentId`` to moto's
Resource (its path is derived from the parent chain) and answers like GetResource.
"""

from __future__ import annotations

import json
from typing import Any

UPDATABLE = {"/pathPart": "path_part", "/parentId": "parent_id"}


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


def apply() -> None:
    from moto.apigateway.responses import APIGatewayResponse

    responses: Any = APIGatewayResponse
    if not hasattr(responses, "update_resource"):
        responses.update_resource = _update_resource
