"""The seams stay code: lib/ depends on nothing below it, and the facts it shares with the
handlers (index names, S3 prefixes) are written once, in the contract."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from payment_core import contract

from tests.unit.synth import SynthesizedStack

ROOT = Path(__file__).resolve().parents[2]


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _shared_facts(stack: SynthesizedStack) -> set[str]:
    """Every index name and S3 prefix/suffix the synthesized stack carries."""
    indexes = {
        index["name"]
        for table in stack.resources("aws_dynamodb_table").values()
        for index in table.get("global_secondary_index", [])
    }
    (notification,) = stack.resources("aws_s3_bucket_notification").values()
    filters = {
        value
        for target in notification["lambda_function"]
        for value in (target["filter_prefix"], target["filter_suffix"])
    }
    # IAM scopes inside the bucket: "${aws_s3_bucket.<id>.arn}/<prefix>*".
    # (Only the bucket's: a table's "<arn>/stream/*" is AWS's ARN format, not a shared fact.)
    scoped = set(re.findall(r"aws_s3_bucket\.[A-Za-z0-9_]+\.arn\}/([a-z0-9-]+/)\*", stack.text))
    return indexes | filters | scoped


def test_lib_imports_nothing_below_it() -> None:
    found = subprocess.run(
        ["git", "grep", "-nE", r"^(from|import) (localcloud|scripts|demo|bench|tests)", "--", "lib/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1, found.stdout  # 1: no match


def test_shared_facts_are_literals_of_the_contract_only(dev: SynthesizedStack) -> None:
    facts = _shared_facts(dev)
    # merchant-created-index and open-payments-index; incoming/ and .csv (trigger); incoming/,
    # reports/ and batch-work/ (IAM scopes).
    assert len(facts) == 6, facts
    assert facts <= _string_literals(Path(contract.__file__))
    in_lib = {
        str(path.relative_to(ROOT)): sorted(facts & _string_literals(path)) for path in (ROOT / "lib").rglob("*.py")
    }
    assert {path: literals for path, literals in in_lib.items() if literals} == {}
