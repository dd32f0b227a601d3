"""Real terraform + hashicorp/aws against the emulator: apply, a plan shows no drift, destroy.

Slow (~2 min: the provider itself waits ~25 s per SQS queue and ~55 s for the S3 lifecycle
rules to be "stable"), so it only runs with LOCALCLOUD_TERRAFORM=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from localcloud import LocalCloud, provider_settings
from tests.localcloud.conftest import FIXTURES, make_zip, run_command

REPO = Path(__file__).resolve().parents[2]
MIRROR = Path("/opt/tf-plugins")
DEFAULT_TAGS = {"project": "payment-platform", "environment": "local"}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("LOCALCLOUD_TERRAFORM") != "1", reason="set LOCALCLOUD_TERRAFORM=1"),
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH"),
]


def terraform(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cli_config = REPO / "terraform" / "cli.tfrc"
    if not cli_config.exists():
        cli_config = FIXTURES / "terraform" / "cli.tfrc"
    environment = dict(os.environ, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
    if MIRROR.is_dir():
        environment["TF_CLI_CONFIG_FILE"] = str(cli_config)
    return run_command(["terraform", *args, "-no-color", "-input=false"], cwd=workdir, env=environment, timeout=600)


def test_apply_then_plan_reports_no_changes(tmp_path: Path) -> None:
    workdir = tmp_path / "tf"
    workdir.mkdir()
    shutil.copy(FIXTURES / "terraform" / "main.tf", workdir / "main.tf")
    (workdir / "fn.zip").write_bytes(make_zip({"handler.py": "def handler(event, context):\n    return {}\n"}))
    (workdir / "layer.zip").write_bytes(make_zip({"python/shared.py": "X = 1\n"}))
    variables = ["-var", f"lambda_zip={workdir / 'fn.zip'}", "-var", f"layer_zip={workdir / 'layer.zip'}"]

    with LocalCloud(tmp_path / "state") as cloud:
        # default_tags as the stack sets them: every taggable resource must read its tags back.
        provider = {**provider_settings(cloud.endpoint), "default_tags": [{"tags": DEFAULT_TAGS}]}
        (workdir / "provider.tf.json").write_text(json.dumps({"provider": {"aws": provider}}))
        init = terraform(workdir, "init")
        assert init.returncode == 0, init.stderr
        apply = terraform(workdir, "apply", "-auto-approve", *variables)
        assert apply.returncode == 0, apply.stdout[-4000:] + apply.stderr[-4000:]
        assert "Apply complete! Resources: 52 added" in apply.stdout

        plan = terraform(workdir, "plan", "-detailed-exitcode", *variables)
        assert plan.returncode == 0, plan.stdout[-6000:] + plan.stderr[-2000:]
        assert "No changes." in plan.stdout

        destroy = terraform(workdir, "destroy", "-auto-approve", *variables)
        assert destroy.returncode == 0, destroy.stdout[-4000:] + destroy.stderr[-4000:]
        assert "Destroy complete! Resources: 52 destroyed" in destroy.stdout
