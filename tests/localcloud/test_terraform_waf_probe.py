"""Real terraform + hashicorp/aws: the WAFv2 edge of the payments API applies, reads back
without drift and destroys on the emulator (issue #11).

The fixture is what the stack synthesizes for ``waf_enabled``: a REGIONAL web ACL with the
AWS managed rule groups ``AWSManagedRulesCommonRuleSet`` and
``AWSManagedRulesKnownBadInputsRuleSet``, a rate-based rule, and an
``aws_wafv2_web_acl_association`` to a REST API stage; plus the REQUEST authorizer (cache off),
a gateway response and the HMAC_256 KMS key of the list tokens. Slow (~1 min), so it only runs with
LOCALCLOUD_TERRAFORM=1, like test_terraform_probe.py.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from localcloud import LocalCloud, provider_settings
from tests.localcloud.conftest import FIXTURES
from tests.localcloud.test_terraform_probe import DEFAULT_TAGS, terraform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("LOCALCLOUD_TERRAFORM") != "1", reason="set LOCALCLOUD_TERRAFORM=1"),
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH"),
]


def test_web_acl_on_the_stage_applies_reads_back_and_destroys(tmp_path: Path) -> None:
    workdir = tmp_path / "tf"
    workdir.mkdir()
    shutil.copy(FIXTURES / "terraform_waf" / "main.tf", workdir / "main.tf")

    with LocalCloud(tmp_path / "state") as cloud:
        provider = {**provider_settings(cloud.endpoint), "default_tags": [{"tags": DEFAULT_TAGS}]}
        (workdir / "provider.tf.json").write_text(json.dumps({"provider": {"aws": provider}}))
        init = terraform(workdir, "init")
        assert init.returncode == 0, init.stderr
        apply = terraform(workdir, "apply", "-auto-approve")
        assert apply.returncode == 0, apply.stdout[-4000:] + apply.stderr[-4000:]
        assert "Apply complete! Resources: 11 added" in apply.stdout

        plan = terraform(workdir, "plan", "-detailed-exitcode")
        assert plan.returncode == 0, plan.stdout[-6000:] + plan.stderr[-2000:]
        assert "No changes." in plan.stdout

        destroy = terraform(workdir, "destroy", "-auto-approve")
        assert destroy.returncode == 0, destroy.stdout[-4000:] + destroy.stderr[-4000:]
        assert "Destroy complete! Resources: 11 destroyed" in destroy.stdout
