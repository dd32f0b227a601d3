"""Every IAM policy document of every environment's synthesized stack, linted by parliament
(duo-labs' IAM linter, a dev dependency): no finding but those accepted below, each with why.

The stack writes policies as ``aws_iam_policy_document`` data sources whose ARNs are Terraform
references; each reference becomes the ARN AWS gives that resource type (account 123456789012,
the stack's region), so parliament checks every action against the resource it is granted on.
A reference of a type not listed fails the test: add its ARN form, do not skip it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import parliament

from tests.unit.synth import SynthesizedStack

ACCOUNT = "123456789012"
_REFERENCE = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_]+)\.([a-z_]+)\}")
# resource type, attribute -> ARN format ({region}, {account}, {name}: the resource's name).
ARN_FORMS = {
    ("aws_dynamodb_table", "arn"): "arn:aws:dynamodb:{region}:{account}:table/{name}",
    ("aws_kms_key", "arn"): "arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ("aws_cloudwatch_log_group", "arn"): "arn:aws:logs:{region}:{account}:log-group:{name}",
    ("aws_lambda_function", "arn"): "arn:aws:lambda:{region}:{account}:function:{name}",
    ("aws_s3_bucket", "arn"): "arn:aws:s3:::{name}",
    ("aws_sfn_state_machine", "arn"): "arn:aws:states:{region}:{account}:stateMachine:{name}",
    ("aws_sfn_state_machine", "name"): "{name}",
    ("aws_sns_topic", "arn"): "arn:aws:sns:{region}:{account}:{name}",
    ("aws_sqs_queue", "arn"): "arn:aws:sqs:{region}:{account}:{name}",
    ("aws_caller_identity", "account_id"): "{account}",
    ("aws_partition", "partition"): "aws",
    ("aws_region", "name"): "{region}",
}
_NAME_FIELDS = ("name", "function_name", "bucket", "name_prefix")

# (finding issue, fragment of the policy document's logical id) accepted, with why. Nothing else.
ACCEPTED: dict[tuple[str, str], str] = {
    ("MALFORMED", "_assume_role_"): "a role's trust policy names a Principal and no Resource, as IAM"
    " requires of trust policies; parliament lints identity policies, which must have one",
    ("RESOURCE_STAR", "keys_policy_"): "in a KMS key policy Resource '*' means this key (KMS developer"
    " guide, 'Key policies'): nothing wider is granted",
    ("RESOURCE_STAR", "keys_page_token_key_policy_"): "a KMS key policy: '*' means this key",
    ("UNKNOWN_CONDITION_FOR_ACTION", "keys_policy_"): "the key policy statement CloudWatch Logs'"
    " documentation gives (Encrypt/Decrypt/ReEncrypt/GenerateDataKey/Describe under"
    " kms:EncryptionContext:aws:logs:arn); Describe* thus only applies with that context",
    ("MISMATCHED_TYPE", "keys_policy_"): "ArnLike on arn:<partition>:logs:<region>:<account>:log-group:*,"
    " a wildcard ARN pattern (what ArnLike is for); parliament reads the pattern as a String",
    ("RESOURCE_MISMATCH", "ingestion_file_policy_document_"): "states:DescribeExecution also takes express"
    " execution ARNs; the Distributed Map's children are granted as AWS documents them"
    " (execution:<machine>/*, 'IAM policies for Distributed Map states')",
    ("RESOURCE_MISMATCH", "sweeper_policy_document_"): "states:DescribeExecution also takes express"
    " execution ARNs; the payment workflow is STANDARD, so only its execution ARNs are granted",
}


def _name(stack: SynthesizedStack, resource_type: str, logical_id: str) -> str:
    resource = stack.resources(resource_type).get(logical_id, {})
    for field in _NAME_FIELDS:
        value = resource.get(field)
        if isinstance(value, str) and "${" not in value:
            return value
    return logical_id.lower().replace("_", "-")


def _resolved(stack: SynthesizedStack, text: str, region: str) -> str:
    def arn(match: re.Match[str]) -> str:
        _, resource_type, logical_id, attribute = match.groups()
        form = ARN_FORMS.get((resource_type, attribute))
        assert form is not None, f"no ARN form for {resource_type}.{attribute}: add it to ARN_FORMS"
        return form.format(region=region, account=ACCOUNT, name=_name(stack, resource_type, logical_id))

    resolved = _REFERENCE.sub(arn, text)
    assert "${" not in resolved, f"unresolved reference in {text}"
    return resolved


def _iam_json(stack: SynthesizedStack, document: dict[str, Any], region: str) -> dict[str, Any]:
    """The IAM JSON the provider renders from an aws_iam_policy_document's arguments."""
    resolve = lambda value: _resolved(stack, value, region)  # noqa: E731
    statements = []
    for block in document.get("statement", []):
        statement: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
        if "sid" in block:
            statement["Sid"] = block["sid"]
        for source, target in (("actions", "Action"), ("not_actions", "NotAction")):
            if source in block:
                statement[target] = block[source]
        for source, target in (("resources", "Resource"), ("not_resources", "NotResource")):
            if source in block:
                statement[target] = [resolve(value) for value in block[source]]
        for principal in block.get("principals", []):
            if principal["type"] == "*":  # the provider renders type "*" as "Principal": "*"
                statement["Principal"] = "*"
                continue
            statement.setdefault("Principal", {})[principal["type"]] = [
                resolve(value) for value in principal["identifiers"]
            ]
        for condition in block.get("condition", []):
            values: str | list[str] = [resolve(value) for value in condition["values"]]
            values = values[0] if len(values) == 1 else values  # as the provider renders one value
            statement.setdefault("Condition", {}).setdefault(condition["test"], {})[condition["variable"]] = values
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _findings(stack: SynthesizedStack) -> list[tuple[str, str, str]]:
    region = stack.document["provider"]["aws"][0]["region"]
    found = []
    for logical_id, document in stack.document["data"].get("aws_iam_policy_document", {}).items():
        policy = parliament.analyze_policy_string(json.dumps(_iam_json(stack, document, region)))
        for finding in policy.findings:
            finding = parliament.enhance_finding(finding)
            found.append((finding.issue, logical_id, f"{finding.detail} at {finding.location}"))
    return found


def _accepted(issue: str, logical_id: str) -> bool:
    return any(issue == accepted and fragment in logical_id for accepted, fragment in ACCEPTED)


def test_parliament_finds_nothing_not_accepted(env_stack: SynthesizedStack) -> None:
    documents = env_stack.document["data"].get("aws_iam_policy_document", {})
    assert len(documents) >= 10  # the linter ran on the stack's policies, not on nothing

    assert [f for f in _findings(env_stack) if not _accepted(f[0], f[1])] == []


def test_the_lint_would_catch_a_grant_on_the_wrong_resource(dev: SynthesizedStack) -> None:
    """A known-bad policy (an SQS action on a DynamoDB table) is a finding: the lint is live."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t",
            }
        ],
    }
    issues = {finding.issue for finding in parliament.analyze_policy_string(json.dumps(bad)).findings}
    assert issues == {"RESOURCE_MISMATCH"}


def test_every_accepted_finding_still_occurs(stacks: dict[str, SynthesizedStack]) -> None:
    """An accepted finding that no stack produces any more is removed from ACCEPTED."""
    occurring = {(issue, logical_id) for stack in stacks.values() for issue, logical_id, _ in _findings(stack)}
    stale = [key for key in ACCEPTED if not any(i == key[0] and key[1] in lid for i, lid in occurring)]
    assert stale == []
