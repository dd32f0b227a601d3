"""The checkov gate's judgement (security/checkov_gate.py) and the committed skip list.

Checkov itself runs in scripts/checkov.sh (its own venv); these tests pin what the gate
does with a report, so a skip can never widen silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from security.checkov_gate import Finding, Skip, judge, load_skips, main, parse_skips, stale_skips

ROOT = Path(__file__).resolve().parents[2]
SKIPS_FILE = ROOT / "security" / "checkov-skips.yaml"


def _report(passed: int, failed: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "check_type": "terraform_json",
        "results": {
            "passed_checks": [{"check_id": "CKV_AWS_1"}] * passed,
            "failed_checks": [{"check_id": i, "check_name": f"name of {i}", "resource": r} for i, r in failed],
        },
        "summary": {"passed": passed, "failed": len(failed), "parsing_errors": 0},
    }


def test_the_committed_skip_list_gives_every_skip_a_reason() -> None:
    skips = load_skips(SKIPS_FILE)
    assert len(skips) == len({(s.check_id, s.resources, s.environments) for s in skips})
    for skip in skips:
        assert len(skip.reason.split()) >= 8, f"{skip.check_id}: say why it holds for a payment platform"


def test_the_skip_list_never_skips_what_the_platform_must_fix() -> None:
    # Encryption, auth, tracing, logging and concurrency findings are fixed, never skipped.
    must_fix = {
        "CKV_AWS_158",  # log group CMK
        "CKV_AWS_27",  # SQS encryption
        "CKV_AWS_26",  # SNS encryption
        "CKV_AWS_119",  # DynamoDB CMK
        "CKV_AWS_173",  # Lambda environment encryption
        "CKV_AWS_59",  # API auth
        "CKV2_AWS_53",  # request validation
        "CKV_AWS_50",  # Lambda X-Ray
        "CKV_AWS_73",  # stage X-Ray
        "CKV_AWS_76",  # stage access logging
        "CKV_AWS_284",  # state machine X-Ray
        "CKV_AWS_285",  # state machine logging
        "CKV_AWS_7",  # KMS rotation
        "CKV_AWS_33",  # KMS key policy wildcard principal
        "CKV_AWS_28",  # DynamoDB PITR
        "CKV_AWS_237",  # API create_before_destroy
        "CKV_AWS_21",  # S3 versioning
        "CKV_AWS_276",  # data trace
    }
    assert {s.check_id for s in load_skips(SKIPS_FILE)} & must_fix == set()
    # Reserved concurrency is fixed in staging and prod; only dev/PR stacks go without (issue #10:
    # a new account refuses their reservations), so the skip may name dev alone.
    concurrency_skips = [s for s in load_skips(SKIPS_FILE) if s.check_id == "CKV_AWS_115"]
    assert [(s.environments, s.resources) for s in concurrency_skips] == [(("dev",), ("*",))]
    # The IAM wildcard checks are skipped for the key policy alone, never for a role's policy.
    for skip in load_skips(SKIPS_FILE):
        if skip.check_id in ("CKV_AWS_109", "CKV_AWS_111", "CKV_AWS_356"):
            # The platform CMK's policy, the list-token HMAC key's policy and prod's DR key's (the
            # same policy in the DR region); in the account stack, the X-Ray key's policy.
            assert (skip.environments, skip.resources) in (
                (
                    ("dev", "staging", "prod"),
                    (
                        "data.platform_keys_policy_*",
                        "data.platform_keys_page_token_key_policy_*",
                        "data.platform_disaster_recovery_keys_policy_*",
                    ),
                ),
                (("account",), ("data.xray_encryption_key_policy_*",)),
                # The backup vaults' keys (TapAccount): the same key-policy shape as X-Ray's.
                (("account",), ("data.backup_vaults_*_key_policy_*",)),
            )


def test_the_script_pins_checkov_and_scans_every_environment() -> None:
    script = (ROOT / "scripts" / "checkov.sh").read_text()
    assert re.search(r"^CHECKOV_VERSION=3\.3\.\d+$", script, re.MULTILINE)
    assert "ENVIRONMENTS=(dev staging prod)" in script
    assert "--framework terraform_json" in script
    assert ".venv-checkov/" in (ROOT / ".gitignore").read_text().splitlines()


def test_findings_are_accepted_only_where_the_skip_applies() -> None:
    skips = [
        Skip("CKV_AWS_117", "no VPC"),
        Skip("CKV_AWS_338", "short retention", environments=("dev",)),
        Skip("CKV_AWS_356", "key policy", resources=("data.platform_keys_policy_*",)),
    ]
    report = _report(
        10,
        [
            ("CKV_AWS_117", "aws_lambda_function.a"),
            ("CKV_AWS_338", "aws_cloudwatch_log_group.a"),
            ("CKV_AWS_356", "data.platform_keys_policy_ABC"),
            ("CKV_AWS_356", "data.platform_api_handler_policy_document_X"),
        ],
    )
    dev, prod = judge("dev", report, skips), judge("prod", report, skips)
    assert dev.unexpected == (
        Finding("CKV_AWS_356", "name of CKV_AWS_356", "data.platform_api_handler_policy_document_X"),
    )
    assert [f.check_id for f in prod.unexpected] == ["CKV_AWS_338", "CKV_AWS_356"]
    assert dev.summary() == "dev: 10 passed, 4 failed (3 accepted by the skip list, 1 unexpected)"
    assert stale_skips([dev, prod], [*skips, Skip("CKV_AWS_18", "gone")]) == [Skip("CKV_AWS_18", "gone")]


def test_the_account_stack_is_judged_only_by_skips_that_name_it() -> None:
    key_policy = ("CKV_AWS_356", "data.xray_encryption_key_policy_X")
    everywhere = Skip("CKV_AWS_356", "key policy", resources=("data.xray_encryption_key_policy_*",))
    account_only = Skip("CKV_AWS_356", "key policy", ("data.xray_encryption_key_policy_*",), ("account",))
    assert [f.resource for f in judge("account", _report(1, [key_policy]), [everywhere]).unexpected] == [
        "data.xray_encryption_key_policy_X"
    ]
    assert judge("account", _report(1, [key_policy]), [account_only]).unexpected == ()
    assert judge("prod", _report(1, [key_policy]), [account_only]).unexpected != ()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"skip": []}, "the skip list must be a mapping with a 'skips' list"),
        ({"skips": [{"id": "CKV_AWS_1"}]}, "skip CKV_AWS_1: reason must be one non-empty line"),
        ({"skips": [{"id": "CKV_AWS_1", "reason": "a\nb"}]}, "skip CKV_AWS_1: reason must be one non-empty line"),
        ({"skips": [{"id": "AWS_1", "reason": "r"}]}, "skip entries need a checkov id (CKV...), got 'AWS_1'"),
        (
            {"skips": [{"id": "CKV_AWS_1", "reason": "r", "environments": ["qa"]}]},
            "skip CKV_AWS_1: environments must be among dev, staging, prod, account",
        ),
        (
            {"skips": [{"id": "CKV_AWS_1", "reason": "r", "resources": []}]},
            "skip 'CKV_AWS_1': resources must be a non-empty list of strings",
        ),
        ({"skips": [{"id": "CKV_AWS_1", "reason": "r", "why": "x"}]}, "skip 'CKV_AWS_1': unknown keys ['why']"),
        ({"skips": ["CKV_AWS_1"]}, "skip entries must be mappings, got 'CKV_AWS_1'"),
    ],
)
def test_a_malformed_skip_list_is_refused(document: object, message: str) -> None:
    with pytest.raises(ValueError) as refusal:
        parse_skips(document)
    assert str(refusal.value) == message


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"summary": {}}, "not a checkov JSON report"),
        (_report(0, []), "checkov ran no checks"),
        ({**_report(1, []), "summary": {"parsing_errors": 1}}, "checkov could not parse the synthesized stack"),
    ],
)
def test_a_report_that_proves_nothing_is_refused(report: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        judge("dev", report, [])


def test_the_gate_exits_non_zero_on_an_unexpected_or_stale_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    skips = tmp_path / "skips.yaml"
    skips.write_text("skips:\n  - id: CKV_AWS_117\n    reason: functions reach only AWS APIs\n")
    clean, dirty = tmp_path / "clean.json", tmp_path / "dirty.json"
    clean.write_text(json.dumps(_report(5, [("CKV_AWS_117", "aws_lambda_function.a")])))
    dirty.write_text(json.dumps(_report(5, [("CKV_AWS_117", "aws_lambda_function.a"), ("CKV_AWS_50", "x")])))
    assert main([str(skips), f"dev={clean}"]) == 0
    assert main([str(skips), f"dev={dirty}"]) == 1
    assert "FAILED CKV_AWS_50 x" in capsys.readouterr().out
    skips.write_text(skips.read_text() + "  - id: CKV_AWS_18\n    reason: fixed since\n")
    assert main([str(skips), f"dev={clean}"]) == 1
    assert "STALE skip CKV_AWS_18" in capsys.readouterr().out
    assert main([str(skips)]) == 2
