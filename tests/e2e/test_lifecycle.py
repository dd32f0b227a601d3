"""The deployment's lifecycle: no drift after apply but an out-of-band change, then destroy leaves
nothing but TapAccount's recovery points.

Marked ``lifecycle``: conftest runs these after every other test of the session, in this
order, whatever the file is called or where it is collected.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from testkit.deployment import StackDeployment
from testkit.traffic import PlatformClient

pytestmark = pytest.mark.lifecycle


def test_drift_names_a_resource_changed_out_of_band(deployment: StackDeployment, platform: PlatformClient) -> None:
    """`make drift`'s check: a change made outside Terraform is reported by address and attribute,
    and it is the only difference the plan finds, so the same plan (one refresh of every resource,
    ~50 s) also shows the deployment matches its code after apply."""
    sqs = platform.client("sqs")
    dlq = platform.outputs["payment_dlq_url"]
    attribute = "MessageRetentionPeriod"
    kept = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=[attribute])["Attributes"][attribute]
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={attribute: str(int(kept) - 60)})
    try:
        exit_code, drifts, output = deployment.drift()
    finally:
        sqs.set_queue_attributes(QueueUrl=dlq, Attributes={attribute: kept})
    assert exit_code == 2, output[-3000:]
    (drift,) = drifts
    assert drift.address.startswith("module.") or drift.address.startswith("aws_sqs_queue."), drift
    assert (drift.actions, drift.attributes, drift.outside_terraform) == (
        ("update",),
        ("message_retention_seconds",),
        True,
    )
    assert drift.line() == f"{drift.address}: update (message_retention_seconds); changed outside Terraform"


def _back_up_payments_into_the_account_vault(deployment: StackDeployment, platform: PlatformClient) -> dict[str, Any]:
    """An on-demand backup job into TapAccount's vault: what the environment's plan does on its
    schedule where ``backup.enabled`` is on (dev, deployed here, has it off: the job is the test's)."""
    iam, backup = platform.client("iam"), platform.client("backup")
    trust = {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(
        RoleName="on-demand-backup-job",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]["Arn"]
    table = platform.outputs["payments_table_name"]
    described = platform.client("dynamodb").describe_table(TableName=table)["Table"]
    items = platform.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
    vault = deployment.account_outputs["backup_vault_arn"].rsplit(":", 1)[-1]
    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=described["TableArn"], IamRoleArn=role)
    return {"vault": vault, "point": job["RecoveryPointArn"], "table_arn": described["TableArn"], "items": items}


def _assert_the_recovery_point_outlived_the_environment(platform: PlatformClient, backed_up: dict[str, Any]) -> None:
    backup, vault, point = platform.client("backup"), backed_up["vault"], backed_up["point"]
    kept = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]
    assert [(p["RecoveryPointArn"], p["ResourceArn"], p["Status"]) for p in kept] == [
        (point, backed_up["table_arn"], "COMPLETED")
    ]
    details = platform.client("dynamodb").describe_backup(BackupArn=point)["BackupDescription"]
    assert details["SourceTableDetails"]["ItemCount"] == backed_up["items"] > 0
    # The account stack's vault policy, as deployed, stands between anyone and the recovery point.
    with pytest.raises(ClientError) as refused:
        backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].endswith(f"{point} with an explicit deny in a resource-based policy")
    assert len(backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]) == 1


def test_destroy_leaves_no_resources(deployment: StackDeployment, platform: PlatformClient) -> None:
    backed_up = _back_up_payments_into_the_account_vault(deployment, platform)
    # The drift check above just read every resource back and found the state current (the
    # out-of-band change is undone): a second full refresh would read the same.
    deployment.destroy(refresh=False)
    assert deployment.state_addresses() == []
    c = platform.client
    suffix = "-e2e"
    leftovers = {
        "tables": [t for t in c("dynamodb").list_tables()["TableNames"] if t.endswith(suffix)],
        "functions": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
        "queues": [q for q in c("sqs").list_queues().get("QueueUrls", []) if "payment-processing" in q],
        "topics": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "buckets": [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
        "state_machines": [m["name"] for m in c("stepfunctions").list_state_machines()["stateMachines"]],
        "rest_apis": [a["name"] for a in c("apigateway").get_rest_apis()["items"]],
        "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
        "log_groups": [
            g["logGroupName"]
            for g in c("logs").describe_log_groups()["logGroups"]
            if g["logGroupName"].endswith(suffix)
        ],
        "roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"] if suffix in r["RoleName"]],
        "layers": [layer["LayerName"] for layer in c("lambda").list_layers()["Layers"]],
    }
    assert {kind: names for kind, names in leftovers.items() if names} == {}
    # The environment stack's destroy leaves the account stack: every stack of the region logs through it.
    role_arn = c("apigateway").get_account()["cloudwatchRoleArn"]
    assert role_arn.endswith(":role/payment-platform-apigw-cloudwatch-us-east-1")
    assert c("iam").get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]["Arn"] == role_arn
    # KMS keys cannot vanish at once: destroy schedules deletion, as AWS does.
    kms = c("kms")
    assert kms.describe_key(KeyId=platform.outputs["kms_key_arn"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    live_platform_keys = [
        k["KeyId"]
        for k in keys
        if k["KeyState"] != "PendingDeletion" and "Payment platform" in k.get("Description", "")
    ]
    assert live_platform_keys == []
    # The environment's recovery points are the account stack's: its destroy leaves them.
    _assert_the_recovery_point_outlived_the_environment(platform, backed_up)
