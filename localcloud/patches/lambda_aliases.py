"""An event source mapping on an alias follows the alias, as on Lambda.

moto 5.2.5 (``LambdaBackend.create_event_source_mapping``) resolves ``FunctionName`` once, at
create time, and stores the resolved function's ARN: for ``<arn>:live`` that is the version the
alias named then (``<arn>:3``). So the mapping answers ``FunctionArn`` with the version, not the
alias ARN it was given (Terraform then plans a change to ``function_name`` on every run), and keeps
invoking that version after the alias moves (a rollback would not reach the queue or the stream).
AWS: "FunctionArn: The ARN of the Lambda function" as given, qualified by the alias or version
(EventSourceMappingConfiguration, Lambda API reference), and Lambda invokes the alias, "If you
specify an alias, the event source mapping invokes the version the alias points to at the time of
invocation" (Lambda developer guide, "Lambda function aliases": "When you use an alias ... you
don't need to update the event source mapping when you point the alias at a new version").

The patch keeps the qualified ARN the caller named; our pollers (``event_source_poller``) resolve
``esm.function_arn`` on every delivery (``get_function``), so a delivery runs the version the alias
points to at that moment. An unqualified or version-qualified name is unchanged.
"""

from __future__ import annotations

from typing import Any


def _qualified_arn(name_or_arn: str, resolved_arn: str) -> str | None:
    """The alias ARN ``name_or_arn`` names, or None when it names no alias."""
    qualifier: str | None
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        qualifier = parts[7] if len(parts) == 8 else None
    else:
        qualifier = name_or_arn.split(":")[1] if ":" in name_or_arn else None
    if qualifier is None or qualifier == "$LATEST" or qualifier.isdigit():
        return None
    unqualified = ":".join(resolved_arn.split(":")[:7])
    return f"{unqualified}:{qualifier}"


def apply() -> None:
    from moto.awslambda.models import LambdaBackend

    original_create = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        name = str(spec.get("FunctionName", ""))
        esm = original_create(backend, spec)
        alias_arn = _qualified_arn(name, esm.function_arn)
        if alias_arn is not None:
            esm.function_arn = alias_arn
        return esm

    # setattr: mypy refuses assigning a function with another signature to the method.
    setattr(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)  # noqa: B010
