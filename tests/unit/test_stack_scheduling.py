"""The stack scheduling (testkit/stack_scheduling.py) on a small suite of its own, in a pytest of its
own: a stand-in ``cdktf_cdktf_provider_aws`` module next to the suite, so nothing here imports the
real provider or synthesizes (each run costs ~1-3 CPU-s, not ~45)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CONFTEST = """
from pathlib import Path

import pytest

from testkit.stack_scheduling import StackScheduling


def pytest_configure(config):
    config.addinivalue_line("markers", "stacks: a stack test")
    config.pluginmanager.register(StackScheduling((Path(__file__).parent,)), "stack-scheduling")


@pytest.fixture(scope="session")
def stacks():
    import cdktf_cdktf_provider_aws

    assert cdktf_cdktf_provider_aws.STAND_IN
    return {}
"""
# In place of the stack scheduler, as if xdist no longer asked for one: the grouping inert.
INERT = """

@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScheduling

    return LoadScheduling(config, log)
"""
RECORD = """
import os
import sys


def record(name):
    imported = "cdktf_cdktf_provider_aws" in sys.modules
    with open(os.environ["RECORD"], "a") as out:
        out.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']} {imported}\\n")
"""
# First in the collection: under plain load scheduling the first two chunks, one per worker, are
# both stack tests.
SYNTH_TESTS = """
import pytest
from record import record


@pytest.mark.parametrize("n", range(4))
def test_uses_the_session_synth(stacks, n):
    record(f"synth{n}")
"""
MARKED_TEST = """
import pytest
from record import record


@pytest.mark.stacks
def test_imports_the_provider_itself():
    import cdktf_cdktf_provider_aws  # noqa: F401

    record("marked")
"""
PLAIN_TESTS = """
import time

import pytest
from record import record


@pytest.mark.parametrize("n", range(16))
def test_handler(n):
    time.sleep(0.05)
    record(f"plain{n}")
"""


def _suite(tmp_path: Path, conftest: str = CONFTEST, **tests: str) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "cdktf_cdktf_provider_aws.py").write_text("STAND_IN = True\n")
    (tmp_path / "record.py").write_text(RECORD)
    for name, text in tests.items():
        (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


def _pytest(suite: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run from the repository (python -m puts it on sys.path: testkit), with no plugin but xdist's.
    environ = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    environ |= {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "RECORD": str(suite / "record.txt")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(suite), *args, str(suite)]
    return subprocess.run(command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=120, check=False)


def _stack_suite(tmp_path: Path, conftest: str = CONFTEST) -> Path:
    return _suite(tmp_path, conftest, test_a_synth=SYNTH_TESTS, test_b_marked=MARKED_TEST, test_c_handlers=PLAIN_TESTS)


def _records(suite: Path) -> list[tuple[str, str, bool]]:
    lines = (suite / "record.txt").read_text().split()
    return [(name, worker, imported == "True") for name, worker, imported in zip(*[iter(lines)] * 3, strict=True)]


def test_every_stack_test_runs_on_one_worker_and_the_other_never_imports_the_provider(tmp_path: Path) -> None:
    suite = _stack_suite(tmp_path)
    run = _pytest(suite, "-p", "xdist.plugin", "-n", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    records = _records(suite)
    assert len(records) == 21
    stack_workers = {worker for name, worker, _ in records if not name.startswith("plain")}
    assert len(stack_workers) == 1
    others = [(name, imported) for name, worker, imported in records if worker not in stack_workers]
    assert others, "the other worker ran nothing"
    assert all(name.startswith("plain") and not imported for name, imported in others)


def test_stack_tests_on_two_workers_fail_the_run(tmp_path: Path) -> None:
    suite = _stack_suite(tmp_path, CONFTEST + INERT)
    run = _pytest(suite, "-p", "xdist.plugin", "-n", "2")
    assert {worker for name, worker, _ in _records(suite) if name.startswith("synth")} == {"gw0", "gw1"}
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert re.search(r"stack tests ran on 2 xdist workers \(gw0, gw1\)", run.stdout), run.stdout
    assert "21 passed" in run.stdout


def test_a_test_that_imports_the_provider_unmarked_fails(tmp_path: Path) -> None:
    sneaky = "def test_builds_a_stack():\n    import cdktf_cdktf_provider_aws  # noqa: F401\n"
    run = _pytest(_suite(tmp_path, test_a_sneaky=sneaky, test_b_marked=MARKED_TEST.replace("record(", "print(")))
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    unmarked = "test_a_sneaky.py::test_builds_a_stack imported cdktf_cdktf_provider_aws but is not a stack test"
    assert unmarked in run.stdout
    assert "1 failed, 1 passed" in run.stdout


def test_collecting_a_module_that_imports_the_provider_is_an_error(tmp_path: Path) -> None:
    eager = "import cdktf_cdktf_provider_aws  # noqa: F401\n\n\ndef test_nothing():\n    pass\n"
    run = _pytest(_suite(tmp_path, test_eager=eager))
    assert run.returncode == pytest.ExitCode.INTERRUPTED, run.stdout + run.stderr
    assert "collecting test_eager.py imported cdktf_cdktf_provider_aws" in run.stdout
