"""Reading IAM out of a synthesized stack: which policy documents each role carries, and the
rules every identity policy must satisfy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.unit.synth import SynthesizedStack

_ROLE_REFERENCE = re.compile(r"\$\{aws_iam_role\.([^.]+)\.(?:id|name|arn)\}")

# The only actions that may take "*" as their resource: AWS defines no resource type for them.
# Service prefix -> its actions, as the Service Authorization Reference lists them. Written out
# here, not imported from lib: this allowlist judges what lib grants, and lib's own lists would
# let any "*" grant allow itself.
_RESOURCELESS_ACTIONS = {
    # X-Ray: trace segments and sampling have no resource-level permissions.
    "xray": "PutTraceSegments PutTelemetryRecords GetSamplingRules GetSamplingTargets",
    # CloudWatch Logs vended-log delivery (Step Functions execution logs): "*" only.
    "logs": "CreateLogDelivery GetLogDelivery UpdateLogDelivery DeleteLogDelivery ListLogDeliveries "
    "PutResourcePolicy DescribeResourcePolicies DescribeLogGroups",
    # DynamoDB ListStreams (Lambda's stream event source): no resource type, "*" only.
    "dynamodb": "ListStreams",
    # Step Functions SendTaskSuccess with the token of a service-integration task (callback
    # pattern): the token names no resource IAM can scope, "*" only.
    "states": "SendTaskSuccess",
}
WILDCARD_RESOURCE_ACTIONS = frozenset(
    f"{service}:{action}" for service, actions in _RESOURCELESS_ACTIONS.items() for action in actions.split()
)
# The "*"-only actions a state machine role needs (ListStreams and SendTaskSuccess are functions').
STATE_MACHINE_WILDCARD_ACTIONS = WILDCARD_RESOURCE_ACTIONS - {"dynamodb:ListStreams", "states:SendTaskSuccess"}


def role_id(reference: str) -> str:
    match = _ROLE_REFERENCE.fullmatch(reference)
    assert match, f"not a role reference: {reference}"
    return match.group(1)


def role_policy_documents(stack: SynthesizedStack) -> dict[str, list[dict[str, Any]]]:
    """Role logical id -> every identity policy document attached to it (inline role policies)."""
    documents: dict[str, list[dict[str, Any]]] = {role: [] for role in stack.resources("aws_iam_role")}
    for policy in stack.resources("aws_iam_role_policy").values():
        documents[role_id(policy["role"])].append(stack.policy_document(policy["policy"]))
    return documents


def managed_policy_arns(stack: SynthesizedStack) -> list[str]:
    """Every managed policy attached anywhere: attachment resources and roles' own lists."""
    arns = [
        attachment["policy_arn"]
        for resource_type in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment")
        for attachment in stack.resources(resource_type).values()
    ]
    for role in stack.resources("aws_iam_role").values():
        arns.extend(role.get("managed_policy_arns", []))
    return arns


def statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from document.get("statement", [])


def grants(documents: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Every (action, resource) pair the Allow statements of ``documents`` grant."""
    return {
        (action, resource)
        for document in documents
        for statement in statements(document)
        if statement.get("effect", "Allow") == "Allow"
        for action in statement.get("actions", [])
        for resource in statement.get("resources", [])
    }


def identity_policy_violations(document: dict[str, Any]) -> list[str]:
    """What makes an identity policy broader than least privilege; empty when it is fine."""
    found = []
    for statement in statements(document):
        sid = statement.get("sid", "<no sid>")
        if statement.get("effect", "Allow") != "Allow":
            continue
        for inverted in ("not_actions", "not_resources", "not_principals"):
            if statement.get(inverted):
                found.append(f"{sid}: {inverted} grants everything not listed")
        actions = statement.get("actions", [])
        for action in actions:
            if action == "*" or action.endswith(":*"):
                found.append(f"{sid}: wildcard action {action}")
        if "*" in statement.get("resources", []):
            broad = sorted(set(actions) - WILDCARD_RESOURCE_ACTIONS)
            if broad:
                found.append(f"{sid}: resource * for {broad}")
    return found


# --- Where a role's grants point: references into the synthesized stack ---------------------


def stack_suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def stack_environment(stack: SynthesizedStack) -> str:
    provider = stack.document["provider"]["aws"][0]  # prod's second, aliased one is its DR region's
    return str(provider["default_tags"][0]["tags"]["Environment"])


def arn_of(stack: SynthesizedStack, resource_type: str, name_field: str, name: str) -> str:
    return stack.reference_of(resource_type, stack.named(resource_type, name_field, name), "arn")


def bucket_arn(stack: SynthesizedStack, prefix: str) -> str:
    # In the stack's own region (prod's DR copy, provider aws.dr, is judged in test_disaster_recovery.py).
    (bucket,) = [
        b for b in stack.resources("aws_s3_bucket").values() if b["bucket"].startswith(prefix) and "provider" not in b
    ]
    return stack.reference_of("aws_s3_bucket", bucket, "arn")


def partition_reference(stack: SynthesizedStack) -> str:
    (partition,) = stack.document["data"]["aws_partition"]  # aws, aws-us-gov or aws-cn
    return f"${{data.aws_partition.{partition}.partition}}"


def batch_state_machine_arn(stack: SynthesizedStack) -> str:
    """Built from the state machine's name in the stack (its definition names batch_ingest, so
    batch_ingest cannot reference the resource); checked to be exactly that name's ARN."""
    ingest = stack.named("aws_lambda_function", "function_name", function_name(stack, "batch_ingest"))
    arn = str(ingest["environment"]["variables"]["BATCH_STATE_MACHINE_ARN"])
    assert arn.endswith(f":stateMachine:batch-file-{stack_suffix(stack)}") and arn.startswith(
        f"arn:{partition_reference(stack)}:states:"
    )
    return arn


def function_name(stack: SynthesizedStack, function: str) -> str:
    return f"payment-{function.replace('_', '-')}-{stack_suffix(stack)}"


def grants_of_role(stack: SynthesizedStack, role_reference: str) -> set[tuple[str, str]]:
    return grants(role_policy_documents(stack)[role_id(role_reference)])


def readable(pairs: set[tuple[str, str]]) -> list[str]:
    return sorted(f"{action} on {resource}" for action, resource in pairs)
