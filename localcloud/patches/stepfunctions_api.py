"""Step Functions actions the Terraform AWS provider calls and moto 5.2.5 does not implement.

Evidence: ``moto/stepfunctions/responses.py`` of 5.2.5 has no ``validate_state_machine_definition``
nor ``list_state_machine_versions`` method, so the server answers those actions with HTTP 500
(``NotImplementedError``). hashicorp/aws 5.100.0 calls

* ``ValidateStateMachineDefinition`` while planning an ``aws_sfn_state_machine``, and
* ``ListStateMachineVersions`` on every read of one (to fill ``state_machine_version_arn``),

and retries 500s with backoff, which looks like a hung ``terraform apply``.

A third gap is in the executing backend (``stepfunctions/parser/models.py``, used when
``execute_state_machine`` is on): ``StartExecution`` without ``name`` builds the execution ARN
from ``None`` (``...:execution:<sm>:None``), so the second unnamed start of a state machine
fails with ``ExecutionAlreadyExists``. AWS generates a UUID name; so does the patch.

Both are added here as methods of moto's ``StepFunctionResponse``, built on moto's own
models: the definition is checked with moto's ASL parser (the one that runs executions),
and versions come from the ``StateMachine.versions`` moto already keeps for ``publish=true``.
"""

from __future__ import annotations

from typing import Any

MAX_VERSIONS_PAGE = 1000


def _validate_state_machine_definition(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = self._get_param("definition")
    diagnostics = []
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:
        diagnostics.append(
            {
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": f"{type(exc).__name__}: {exc}"[:1000],
            }
        )
    return ActionResult(
        {
            "result": "FAIL" if diagnostics else "OK",
            "diagnostics": diagnostics,
            "truncated": False,
        }
    )


def _list_state_machine_versions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    arn = self._get_param("stateMachineArn")
    max_results = int(self._get_param("maxResults") or MAX_VERSIONS_PAGE)
    start = int(self._get_param("nextToken") or 0)
    state_machine = self.stepfunction_backend.describe_state_machine(arn)
    versions = sorted(getattr(state_machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    page = versions[start : start + max_results]
    response: dict[str, Any] = {
        "stateMachineVersions": [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in page]
    }
    if start + max_results < len(versions):
        response["nextToken"] = str(start + max_results)
    return ActionResult(response)


def _patch_unnamed_start_execution() -> None:
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


def apply() -> None:
    from moto.stepfunctions.responses import StepFunctionResponse

    _patch_unnamed_start_execution()

    responses: Any = StepFunctionResponse
    if not hasattr(responses, "validate_state_machine_definition"):
        responses.validate_state_machine_definition = _validate_state_machine_definition
    if not hasattr(responses, "list_state_machine_versions"):
        responses.list_state_machine_versions = _list_state_machine_versions
