"""Every test suite runs in a phase of `make test`, and the fast suites are listed once.

tests/fast-suites.txt names the suites `make test-fast` and the unit phase of `make test` run, which
are the suites the stack scheduler guards (testkit/stack_scheduling.py, registered by
tests/conftest.py): a suite run there and not guarded would import the AWS provider on every xdist
worker unnoticed. The Makefile, scripts/test.sh and tests/conftest.py each read that file; these
tests fail when one of them names suites of its own, or when tests exist that no phase of
scripts/test.sh runs.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAST_SUITES_FILE = REPO / "tests" / "fast-suites.txt"
TEST_SH = REPO / "scripts" / "test.sh"
SUITE_PATH = re.compile(r"tests/[a-z0-9_]+")


def listed_suites() -> list[str]:
    return FAST_SUITES_FILE.read_text().splitlines()


def logical_lines(script: str) -> list[str]:
    """The lines of a shell script or of `make -n`'s output, backslash continuations joined."""
    return script.replace("\\\n", " ").splitlines()


def pytest_commands(script: str) -> list[str]:
    return [line for line in logical_lines(script) if " -m pytest " in line]


def test_the_list_names_each_suite_directory_once() -> None:
    # One `tests/<name>` a line and nothing else: bash's mapfile (scripts/test.sh) takes each line
    # as it is, where make and Python split on whitespace.
    suites = listed_suites()
    assert suites and all(SUITE_PATH.fullmatch(line) for line in suites), suites
    assert len(set(suites)) == len(suites), suites
    assert [suite for suite in suites if not (REPO / suite).is_dir()] == []


def test_make_test_fast_runs_the_listed_suites() -> None:
    # `make -n` prints the recipe with the variables expanded and runs nothing.
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry_run = subprocess.run(
        ["make", "-n", "-s", "test-fast"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    (command,) = pytest_commands(dry_run.stdout)
    assert [word for word in shlex.split(command) if word.startswith("tests")] == listed_suites()


def test_the_stack_scheduler_guards_the_listed_suites(request: pytest.FixtureRequest) -> None:
    scheduling = request.config.pluginmanager.get_plugin("stack-scheduling")
    assert scheduling is not None
    assert scheduling.guarded == tuple(REPO / suite for suite in listed_suites())


def test_the_unit_phase_of_make_test_runs_the_listed_suites() -> None:
    script = TEST_SH.read_text()
    (unit_phase,) = [command for command in pytest_commands(script) if '"pytest unit+handlers"' in command]
    assert unit_phase.split()[-1] == '"${FAST_SUITES[@]}"' and "tests/" not in unit_phase
    assignments = [line.strip() for line in logical_lines(script) if re.search(r"\bFAST_SUITES\+?=|mapfile", line)]
    assert assignments == ["mapfile -t FAST_SUITES <tests/fast-suites.txt"]


def test_every_test_is_in_a_phase_of_make_test() -> None:
    # The other phases name their suite in their pytest command (tests/localcloud, tests/e2e).
    named = {word for command in pytest_commands(TEST_SH.read_text()) for word in SUITE_PATH.findall(command)}
    fast = set(listed_suites())
    assert named & fast == set(), "a fast suite is also named in another phase of scripts/test.sh"
    test_files = [*REPO.joinpath("tests").rglob("test_*.py"), *REPO.joinpath("tests").rglob("*_test.py")]
    suites = {"/".join(path.relative_to(REPO).parts[:2]) for path in test_files}
    assert suites and sorted(suites - named - fast) == []
