"""Synthesize one environment aimed at the emulator and drive real Terraform against it.

``tap.py`` synthesizes two stacks: ``TapAccount`` (once per account and region) and
``TapStack<suffix>``, which depends on it. ``apply`` applies both in that order, as
``make deploy`` does; ``destroy`` destroys only the environment stack, as a PR's destroy does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from lib.config import config_for
from lib.config.subscribers import SUBSCRIBERS_VARIABLE
from lib.settings import (
    AUTHORIZATION_WINDOW_VARIABLE,
    CERTIFICATE_VARIABLE,
    DOMAIN_VARIABLE,
    SYNTH_ONLY_SUBSCRIBERS,
)
from localcloud.network import issue_certificate
from localcloud.provider import TEST_ACCESS_KEY, TEST_SECRET_KEY
from ops.drift import Drift
from ops.drift import check as drift_check

ROOT = Path(__file__).resolve().parent.parent
# lib/account_stack.py's stack name (a literal here: importing that module loads the provider bindings).
ACCOUNT_STACK_NAME = "TapAccount"
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class DeploymentError(RuntimeError):
    pass


@dataclass
class StackDeployment:
    """One ``TapStack<suffix>`` synthesized into ``workdir`` and applied to ``endpoint``."""

    endpoint: str
    workdir: Path
    environment: str = "dev"
    suffix: str = "local"
    progress: Progress = _quiet
    # The deployment's AUTHORIZATION_WINDOW_SECONDS (lib/settings.py); None: the preset's window.
    authorization_window_seconds: int | None = None
    # What the deploying environment sets, as a CI deploy job's variables do (ALARM_SUBSCRIBERS,
    # API_DOMAIN_NAME, API_CERTIFICATE_ARN): ``environment_variables`` gives an emulator's.
    variables: Mapping[str, str] = field(default_factory=dict)
    _outputs: dict[str, Any] | None = field(default=None, init=False)

    @property
    def stack_name(self) -> str:
        return f"TapStack{self.suffix}"

    @property
    def stack_dir(self) -> Path:
        return self.workdir / "stacks" / self.stack_name

    @property
    def account_stack_dir(self) -> Path:
        return self.workdir / "stacks" / ACCOUNT_STACK_NAME

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ENVIRONMENT=self.environment,
            ENVIRONMENT_SUFFIX=self.suffix,
            LOCAL_CLOUD_ENDPOINT=self.endpoint,
            CDKTF_OUTDIR=str(self.workdir),
            CHECKPOINT_DISABLE="1",
            TF_IN_AUTOMATION="1",
            # Terraform's own AWS calls (state is local) need no real credentials.
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        env.update(self.variables)
        if self.authorization_window_seconds is not None:
            env[AUTHORIZATION_WINDOW_VARIABLE] = str(self.authorization_window_seconds)
        env.setdefault("TF_PLUGIN_CACHE_DIR", str(ROOT / ".localcloud" / "plugin-cache"))
        Path(env["TF_PLUGIN_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
        return env

    def _run(self, *args: str, cwd: Path, stream: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
        if not stream:
            result = subprocess.run(args, cwd=cwd, env=self._env(), capture_output=True, text=True, check=False)
        else:
            lines: list[str] = []
            with subprocess.Popen(
                args, cwd=cwd, env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            ) as process:
                assert process.stdout is not None
                for line in process.stdout:
                    lines.append(line)
                    if _is_progress(line):
                        self.progress(line.rstrip())
            result = subprocess.CompletedProcess(args, process.returncode, "".join(lines), "")
        if check and result.returncode != 0:
            raise DeploymentError(
                f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
            )
        return result

    def synth(self) -> None:
        self.progress(f"synth {self.stack_name} ({self.environment}) -> {self.stack_dir}")
        self._run(sys.executable, str(ROOT / "tap.py"), cwd=ROOT)

    def preflight(self) -> list[str]:
        """``make preflight`` against the emulator (lib/preflight.py); its lines, or DeploymentError."""
        self.progress("preflight")
        stack_json = str(self.stack_dir / "cdk.tf.json")
        result = self._run(sys.executable, "-m", "lib.preflight", "--stack-json", stack_json, cwd=ROOT, check=False)
        lines = result.stdout.splitlines()
        for line in lines:
            self.progress(line)
        if result.returncode != 0:
            raise DeploymentError(f"preflight failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return lines

    def apply(self) -> None:
        """The account stack, then the environment stack (``cdktf deploy TapAccount TapStack<suffix>``)."""
        for stack_dir in (self.account_stack_dir, self.stack_dir):
            self.progress(f"terraform init ({stack_dir.name})")
            self._run("terraform", "init", "-input=false", "-no-color", cwd=stack_dir)
            self.progress(f"terraform apply ({stack_dir.name})")
            self._run("terraform", "apply", "-auto-approve", "-input=false", "-no-color", cwd=stack_dir, stream=True)
        self._outputs = None

    def plan_exit_code(self) -> tuple[int, str]:
        """``terraform plan -detailed-exitcode``: 0 no changes, 2 changes, 1 error."""
        result = self._run(
            "terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", cwd=self.stack_dir, check=False
        )
        return result.returncode, result.stdout + result.stderr

    def drift(self) -> tuple[int, list[Drift], str]:
        """``make drift``'s check (ops/drift.py) on this stack: plan's exit code, drifts, output."""
        return drift_check(self.stack_dir, self._env())

    def destroy(self, *, refresh: bool = True) -> None:
        """The environment stack only: the account stack serves every stack of the region.

        ``refresh=False`` destroys what the state holds without reading all ~180 resources back
        first: only right after a refresh that found no drift (the e2e lifecycle's drift checks),
        where it is the same plan. On the emulator that read-back was most of the destroy's time
        (2026-12-03, load ~20: 220 s refreshing before the first delete, then 56 s deleting)."""
        self.progress(f"terraform destroy ({self.stack_name})")
        flags = ("-auto-approve", "-input=false", "-no-color") + (() if refresh else ("-refresh=false",))
        self._run("terraform", "destroy", *flags, cwd=self.stack_dir, stream=True)

    def state_addresses(self) -> list[str]:
        result = self._run("terraform", "state", "list", cwd=self.stack_dir, check=False)
        return [line for line in result.stdout.splitlines() if line.strip()]

    @property
    def account_outputs(self) -> Mapping[str, Any]:
        """The account stack's outputs (``TapAccount``: the backup vault, the logging role)."""
        raw = json.loads(self._run("terraform", "output", "-json", cwd=self.account_stack_dir).stdout)
        return {name: value["value"] for name, value in raw.items()}

    @property
    def outputs(self) -> Mapping[str, Any]:
        if self._outputs is None:
            raw = json.loads(self._run("terraform", "output", "-json", cwd=self.stack_dir).stdout)
            self._outputs = {name: value["value"] for name, value in raw.items()}
        return self._outputs


def environment_variables(endpoint: str, environment: str, suffix: str) -> dict[str, str]:
    """What a CI deploy of ``environment`` sets, for a deployment to the emulator at ``endpoint``.

    The presets refuse to synthesize without the environment's own alarm subscribers and (where
    ``edge.custom_domain_required``) its domain and certificate; a CI job's variables provide
    them. Here: subscribers that page nobody (``SYNTH_ONLY_SUBSCRIBERS``), and a domain of a private
    network (.internal) with a certificate for it from the emulator's network CA, imported into
    the emulator's ACM first, as the deploying account holds its certificate before the deploy
    (API Gateway refuses a domain whose certificate does not exist). Nothing here is a stack setting.
    """
    preset = config_for(environment)
    variables: dict[str, str] = {}
    if preset.alarms.subscribers_required:
        variables[SUBSCRIBERS_VARIABLE] = SYNTH_ONLY_SUBSCRIBERS
    if preset.edge.custom_domain_required:
        domain = f"api.{suffix.lower()}.payments.internal"
        issued = issue_certificate(endpoint, [domain])
        acm = boto3.client(
            "acm",
            endpoint_url=endpoint,
            # A regional domain's certificate is in the stack's region (lib/settings.py checks it).
            region_name=preset.disaster_recovery.primary_region,
            aws_access_key_id=TEST_ACCESS_KEY,
            aws_secret_access_key=TEST_SECRET_KEY,
        )
        imported = acm.import_certificate(
            Certificate=issued["certificate"].encode(),
            PrivateKey=issued["key"].encode(),
            CertificateChain=issued["ca"].encode(),
        )
        variables |= {DOMAIN_VARIABLE: domain, CERTIFICATE_VARIABLE: str(imported["CertificateArn"])}
    return variables


_PROGRESS_MARKERS = ("Creation complete", "Destruction complete", "Apply complete!", "Destroy complete!")


def _is_progress(line: str) -> bool:
    # Terraform prints errors as "Error: ..." (boxed with "│ " when not a TTY).
    return any(marker in line for marker in _PROGRESS_MARKERS) or line.lstrip("│ ").startswith("Error:")
