"""ops.rollback: which version it picks, what it refuses (on the emulator: tests/localcloud/test_lambda_versions.py)."""

from __future__ import annotations

import json

import pytest

from ops.rollback import RollbackError, main, previous_version


def test_the_previous_version_is_the_highest_published_below_the_alias() -> None:
    assert previous_version(["$LATEST", "1", "2", "10", "11"], "11") == "10"
    assert previous_version(["$LATEST", "3", "7", "9"], "9") == "7"  # versions are not contiguous after deletes
    assert previous_version(["$LATEST", "1", "2", "3"], "2") == "1"  # an alias already rolled back goes further


def test_no_earlier_version_is_refused() -> None:
    with pytest.raises(RollbackError, match=r"^no published version before 1 to roll back to$"):
        previous_version(["$LATEST", "1"], "1")


def test_an_unknown_function_is_refused_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--function", "payments", "--suffix", "dev"]) == 1
    line = json.loads(capsys.readouterr().out)
    assert line == {
        "error": "function must be one of ['api', 'authorizer', 'batch_ingest', 'event_writer', 'queue_consumer', "
        "'sweeper', 'webhook_delivery', 'webhook_fanout', 'workflow', 'workflow_starter'] or all, got 'payments'"
    }
