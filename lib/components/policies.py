"""Small helpers for IAM policy documents, so statements read as one line each."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)


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


def condition(test: str, variable: str, values: Sequence[str]) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))
