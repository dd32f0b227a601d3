"""Patches applied to moto inside the emulator process (never in the caller's process).

Each module fixes one documented gap of moto 5.2.5; see localcloud/README.md for the evidence.
"""

from __future__ import annotations

from pathlib import Path

from localcloud import stepfunctions_quotas
from localcloud.patches import (
    apigateway_api,
    backup_recovery_points,
    backup_vault_policy,
    cloudwatch_alarm_actions,
    dynamodb_isolation,
    dynamodb_item_size,
    dynamodb_query,
    dynamodb_restore,
    dynamodb_serializer,
    dynamodb_streams,
    lambda_account,
    lambda_aliases,
    lambda_runtime,
    s3_bucket_metrics,
    s3_bucket_policy,
    s3_notifications,
    scheduler_targets,
    sqs_event_source,
    state_machine_encryption,
    stepfunctions_api,
    stepfunctions_clients,
    stepfunctions_json_paths,
    stepfunctions_lambda_errors,
    stepfunctions_map_run,
    stepfunctions_parse_cache,
    stepfunctions_payload,
    stepfunctions_redrive,
    stepfunctions_result_writer,
    stepfunctions_stop,
    stepfunctions_throttling,
    terraform_fidelity,
    xray_encryption,
)
from localcloud.patches.runtime_state import RUNTIME


def apply_all(state_dir: Path) -> None:
    RUNTIME.state_dir = state_dir
    stepfunctions_quotas.load_from_environment()
    stepfunctions_parse_cache.apply()  # first: the patches below that parse get the kept tree
    stepfunctions_json_paths.apply()
    stepfunctions_api.apply()
    state_machine_encryption.apply()
    dynamodb_isolation.apply()
    dynamodb_query.apply()
    dynamodb_item_size.apply()
    dynamodb_serializer.apply()
    dynamodb_streams.apply()
    stepfunctions_lambda_errors.apply()
    stepfunctions_clients.apply()
    stepfunctions_map_run.apply()
    stepfunctions_payload.apply()
    stepfunctions_redrive.apply()
    stepfunctions_result_writer.apply()
    stepfunctions_stop.apply()
    stepfunctions_throttling.apply()
    apigateway_api.apply()
    lambda_runtime.apply()
    lambda_account.apply()
    cloudwatch_alarm_actions.apply()
    sqs_event_source.apply()
    lambda_aliases.apply()  # after the pollers' take-over: they detach by the resolved ARN
    s3_notifications.apply()
    s3_bucket_policy.apply()
    s3_bucket_metrics.apply()
    terraform_fidelity.apply()
    xray_encryption.apply()
    backup_vault_policy.apply()
    backup_recovery_points.apply()  # after it: replaces its empty recovery point listing
    dynamodb_restore.apply()


def set_endpoint(endpoint: str) -> None:
    RUNTIME.endpoint = endpoint
    sqs_event_source.POLLER.start()
    dynamodb_streams.POLLER.start()
    scheduler_targets.RUNNER.start()


def stop_background_workers() -> None:
    sqs_event_source.POLLER.stop()
    dynamodb_streams.POLLER.stop()
    scheduler_targets.RUNNER.stop()
    lambda_runtime.kill_running_invocations()
