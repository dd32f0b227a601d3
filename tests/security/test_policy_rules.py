"""Rules every policy of the stack keeps: every role is judged by a least-privilege test, identity
policies hold no wildcard or managed full access, roles trust only their service, the key policy
stays within the account, the bucket policy only denies."""

from __future__ import annotations

from tests.security.iam import (
    identity_policy_violations,
    managed_policy_arns,
    partition_reference,
    role_id,
    role_policy_documents,
    statements,
)
from tests.unit.synth import SynthesizedStack, platform_key


def test_every_role_is_one_of_the_thirteen_the_least_privilege_tests_judge(env_stack: SynthesizedStack) -> None:
    judged = {role_id(f["role"]) for f in env_stack.resources("aws_lambda_function").values()}
    judged |= {role_id(m["role_arn"]) for m in env_stack.resources("aws_sfn_state_machine").values()}
    judged |= {role_id(env_stack.only("aws_scheduler_schedule")["target"]["role_arn"])}
    # With a DR region, S3 Replication's role (its pairs: tests/unit/test_disaster_recovery.py).
    replication = [r["role"] for r in env_stack.resources("aws_s3_bucket_replication_configuration").values()]
    judged |= {role_id(role) for role in replication}
    # Where backups are on, AWS Backup's role (its grants: tests/security/test_backup_role.py).
    backup = [s["iam_role_arn"] for s in env_stack.resources("aws_backup_selection").values()]
    judged |= {role_id(role) for role in backup}
    assert set(env_stack.resources("aws_iam_role")) == judged
    # ten functions, two state machines, the sweeper's schedule (and the replication and backup roles)
    assert len(judged) == 13 + len(replication) + len(backup)


def test_no_identity_policy_has_wildcards_or_managed_full_access(env_stack: SynthesizedStack) -> None:
    violations = {
        role: problems
        for role, documents in role_policy_documents(env_stack).items()
        for problems in [[p for d in documents for p in identity_policy_violations(d)]]
        if problems
    }
    assert violations == {}
    broad = [
        arn for arn in managed_policy_arns(env_stack) if "FullAccess" in arn or arn.endswith("AdministratorAccess")
    ]
    assert broad == []
    # Today no managed policy is attached at all: every grant is an inline, reviewed statement.
    assert managed_policy_arns(env_stack) == []
    for role in env_stack.resources("aws_iam_role").values():
        assert "inline_policy" not in role


def test_roles_are_assumable_only_by_their_service(env_stack: SynthesizedStack) -> None:
    for role in env_stack.resources("aws_iam_role").values():
        (statement,) = statements(env_stack.policy_document(role["assume_role_policy"]))
        assert statement["actions"] == ["sts:AssumeRole"]
        (principal,) = statement["principals"]
        assert principal["type"] == "Service"
        assert principal["identifiers"] in (
            ["lambda.amazonaws.com"],
            ["states.amazonaws.com"],
            ["scheduler.amazonaws.com"],
            ["s3.amazonaws.com"],  # S3 Replication's role, where there is a DR region
            ["backup.amazonaws.com"],  # AWS Backup's role, where backups are on
        )


def test_key_policy_never_grants_kms_wildcard_or_outside_the_account(env_stack: SynthesizedStack) -> None:
    policy = env_stack.policy_document(platform_key(env_stack)["policy"])
    (caller_identity,) = env_stack.document["data"]["aws_caller_identity"]
    account_root = (
        f"arn:{partition_reference(env_stack)}:iam::${{data.aws_caller_identity.{caller_identity}.account_id}}:root"
    )
    for statement in statements(policy):
        assert not {"*", "kms:*"} & set(statement["actions"]), statement["sid"]
        for principal in statement["principals"]:
            assert principal["identifiers"] != ["*"], statement["sid"]
            if principal["type"] == "AWS":
                assert principal["identifiers"] == [account_root], statement["sid"]
            else:
                # Services act on the key only for this account's resources.
                assert principal["type"] == "Service" and statement.get("condition"), statement["sid"]
    # Only the account administers the key; services may only use it.
    admin = [s for s in statements(policy) if any(p["type"] == "AWS" for p in s["principals"])]
    assert [s["sid"] for s in admin] == ["AccountAdministers"]
    use_only = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}
    for statement in statements(policy):
        if statement["sid"] != "AccountAdministers":
            assert set(statement["actions"]) <= use_only, statement["sid"]


def test_bucket_policy_only_denies(env_stack: SynthesizedStack) -> None:
    for policy in env_stack.resources("aws_s3_bucket_policy").values():
        assert [s["effect"] for s in statements(env_stack.policy_document(policy["policy"]))] == ["Deny"]
