"""Small helpers for IAM policy documents, so statements read as one line each."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    effect: str = "Allow",
    service_principals: Sequence[str] = (),
    aws_principals: Sequence[str] = (),
    any_principal: bool = False,
    conditions: Sequence[DataAwsIamPolicyDocumentStatementCondition] = (),
) -> DataAwsIamPolicyDocumentStatement:
    principals: list[DataAwsIamPolicyDocumentStatementPrincipals] = []
    if service_principals:
        principals.append(
            DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=list(service_principals))
        )
    if aws_principals:
        principals.append(DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=list(aws_principals)))
    if any_principal:
        principals.append(DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"]))
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect=effect,
        actions=list(actions),
        resources=list(resources) or None,
        principals=principals or None,
        condition=list(conditions) or None,
    )


def service_trust(scope: Construct, construct_id: str, service: str) -> DataAwsIamPolicyDocument:
    """The trust policy of a role that the AWS ``service`` (``lambda.amazonaws.com``, ...) assumes."""
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
            )
        ],
    )


def condition(test: str, variable: str, values: Sequence[str]) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))


def account_service_trust(
    scope: Construct, construct_id: str, sid: str, service: str, account_id: str
) -> DataAwsIamPolicyDocument:
    """The trust policy of a role the AWS ``service`` assumes for this account only: the
    ``aws:SourceAccount`` condition keeps another account's resource from borrowing it (confused deputy)."""
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            statement(
                sid,
                ["sts:AssumeRole"],
                [],
                service_principals=[service],
                conditions=[condition("StringEquals", "aws:SourceAccount", [account_id])],
            )
        ],
    )


def state_machine_telemetry(xray_tracing: bool) -> list[DataAwsIamPolicyDocumentStatement]:
    """What a state machine needs to deliver its execution logs (and X-Ray traces)."""
    statements = [
        # CloudWatch Logs' log-delivery APIs have no resource-level permissions: "*" only.
        statement(
            "DeliverExecutionLogs",
            [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            ["*"],
        ),
    ]
    if xray_tracing:
        # X-Ray has no resource-level permissions: "*" is the only resource AWS accepts.
        statements.append(
            statement(
                "Tracing",
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                ["*"],
            )
        )
    return statements
