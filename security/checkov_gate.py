"""Judge checkov's JSON reports against the committed skip list (security/checkov-skips.yaml).

Usage: ``python security/checkov_gate.py SKIPS_FILE ENV=REPORT.json [ENV=REPORT.json ...]``.
Prints passed / failed / accepted counts per environment; exits 1 when a failed check is not
accepted by the list, or when a list entry no longer matches any finding (stale skips hide
nothing and would silently accept a future regression).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the Pipfile; safe_load is Any anyway

ENVIRONMENTS = ("dev", "staging", "prod")
# Every stack scripts/checkov.sh scans: the environments, and the account stack (TapAccount) once.
# A skip applies to the environments unless it names the account stack.
SCANNED = (*ENVIRONMENTS, "account")


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    resources: tuple[str, ...] = ("*",)
    environments: tuple[str, ...] = ENVIRONMENTS

    def accepts(self, environment: str, finding: Finding) -> bool:
        return (
            finding.check_id == self.check_id
            and environment in self.environments
            and any(fnmatchcase(finding.resource, pattern) for pattern in self.resources)
        )


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    resource: str

    @classmethod
    def from_check(cls, check: Mapping[str, Any]) -> Finding:
        """One of a checkov JSON report's ``failed_checks``."""
        return cls(check["check_id"], check["check_name"], check["resource"])


@dataclass(frozen=True)
class Verdict:
    environment: str
    passed: int
    failed: tuple[Finding, ...]
    unexpected: tuple[Finding, ...]

    def summary(self) -> str:
        accepted = len(self.failed) - len(self.unexpected)
        return (
            f"{self.environment}: {self.passed} passed, {len(self.failed)} failed "
            f"({accepted} accepted by the skip list, {len(self.unexpected)} unexpected)"
        )


def _string_list(entry: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"skip {entry.get('id')!r}: {key} must be a non-empty list of strings")
    return tuple(value)


def parse_skips(document: object) -> list[Skip]:
    """The skip list, validated: every entry names a check and gives a one-line reason."""
    if not isinstance(document, dict) or not isinstance(document.get("skips"), list):
        raise ValueError("the skip list must be a mapping with a 'skips' list")
    skips = []
    for entry in document["skips"]:
        if not isinstance(entry, dict):
            raise ValueError(f"skip entries must be mappings, got {entry!r}")
        unknown = set(entry) - {"id", "reason", "resources", "environments"}
        if unknown:
            raise ValueError(f"skip {entry.get('id')!r}: unknown keys {sorted(unknown)}")
        check_id, reason = entry.get("id"), entry.get("reason")
        if not isinstance(check_id, str) or not check_id.startswith("CKV"):
            raise ValueError(f"skip entries need a checkov id (CKV...), got {check_id!r}")
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise ValueError(f"skip {check_id}: reason must be one non-empty line")
        environments = _string_list(entry, "environments", ENVIRONMENTS)
        if not set(environments) <= set(SCANNED):
            raise ValueError(f"skip {check_id}: environments must be among {', '.join(SCANNED)}")
        skips.append(Skip(check_id, reason.strip(), _string_list(entry, "resources", ("*",)), environments))
    return skips


def load_skips(path: Path) -> list[Skip]:
    return parse_skips(yaml.safe_load(path.read_text()))


def _results(report: object) -> tuple[int, list[Finding]]:
    # checkov writes one object per framework, or a list of them when several ran.
    reports = report if isinstance(report, list) else [report]
    passed = 0
    failed: list[Finding] = []
    for one in reports:
        if not isinstance(one, dict) or "results" not in one:
            raise ValueError("not a checkov JSON report")
        if one.get("summary", {}).get("parsing_errors"):
            raise ValueError("checkov could not parse the synthesized stack")
        results = one["results"]
        passed += len(results.get("passed_checks", []))
        failed.extend(Finding.from_check(check) for check in results.get("failed_checks", []))
    if passed + len(failed) == 0:
        # An empty report would pass every gate; it means checkov saw no resources.
        raise ValueError("checkov ran no checks")
    return passed, failed


def judge(environment: str, report: object, skips: Sequence[Skip]) -> Verdict:
    passed, failed = _results(report)
    unexpected = [f for f in failed if not any(skip.accepts(environment, f) for skip in skips)]
    return Verdict(environment, passed, tuple(failed), tuple(unexpected))


def stale_skips(verdicts: Sequence[Verdict], skips: Sequence[Skip]) -> list[Skip]:
    """Entries that accepted no finding in any environment they name."""
    return [
        skip
        for skip in skips
        if not any(skip.accepts(v.environment, finding) for v in verdicts for finding in v.failed)
    ]


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or not all("=" in arg for arg in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    skips = load_skips(Path(argv[0]))
    verdicts = []
    for arg in argv[1:]:
        environment, path = arg.split("=", 1)
        verdicts.append(judge(environment, json.loads(Path(path).read_text()), skips))
    ok = True
    for verdict in verdicts:
        print(verdict.summary())
        for finding in verdict.unexpected:
            ok = False
            print(f"  FAILED {finding.check_id} {finding.resource}: {finding.check_name}")
    for skip in stale_skips(verdicts, skips):
        ok = False
        print(f"  STALE skip {skip.check_id}: no finding on {list(skip.resources)} in {list(skip.environments)}")
    print("checkov gate:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
