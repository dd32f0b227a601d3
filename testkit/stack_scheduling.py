"""One pytest-xdist worker runs every test that needs the AWS provider; the others never import it.

Importing ``cdktf_cdktf_provider_aws`` costs ~18 CPU-s per process, ~23 with the session synth
(tests/unit/conftest.py). Under xdist's load scheduling every worker ran some stack tests,
so every worker paid both. Here the first worker gets every stack test, ahead of anything else,
and the other tests go to a pool every worker draws from: the other workers start on it at once,
the stack worker joins them when it is through the stack tests.

A stack test uses the session synth (the ``stacks`` fixture, which ``dev``, ``env_stack`` and the
like use) or is marked ``stacks`` (it builds a stack of its own or imports provider-importing code).

xdist's controller never collects; it only sees node ids. So each worker writes the ids of the
stack tests it collected into a directory the controller names in the worker's ``workerinput``,
before it reports its collection, and the scheduler reads them from there.

The grouping must not go inert unseen again (``xdist_group`` did: pytest 9 ignores the node id
suffix xdist gives a group), so three checks hold it:
- collecting the guarded suites must not import the provider (a collection error names the module);
- a test there that is not a stack test and imports the provider fails (on any worker, or a
  plain run, that had not imported it yet: under this scheduler, every worker but the stack one);
- the controller fails the run if stack tests ran on more than one worker.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScheduling  # type: ignore[import-untyped]  # xdist ships no type information

AWS_PROVIDER = "cdktf_cdktf_provider_aws"
MARKER = "stacks"
SESSION_SYNTH_FIXTURE = "stacks"
IDS_DIR_KEY = "stack_test_ids_dir"


def needs_stacks(item: pytest.Item) -> bool:
    return SESSION_SYNTH_FIXTURE in getattr(item, "fixturenames", ()) or item.get_closest_marker(MARKER) is not None


class StacksFirstScheduling(LoadScheduling):  # type: ignore[misc]  # LoadScheduling is Any to mypy
    """xdist's load scheduling, except that every stack test goes to the first worker up front."""

    # LoadScheduling's, typed for mypy.
    collection: list[str] | None
    maxschedchunk: int | None

    def __init__(self, config: pytest.Config, log: Any, stack_test_ids: Callable[[], frozenset[str]]) -> None:
        super().__init__(config, log)
        self._stack_test_ids = stack_test_ids

    def schedule(self) -> None:
        # Called again when a worker joins later (one replaced a crashed one): load scheduling then.
        if self.collection is not None:
            super().schedule()
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        collection: list[str] = next(iter(self.node2collection.values()))
        self.collection = collection
        stack_ids = self._stack_test_ids()
        stack_tests = [index for index, nodeid in enumerate(collection) if nodeid in stack_ids]
        self.pending[:] = [index for index, nodeid in enumerate(collection) if nodeid not in stack_ids]
        if self.maxschedchunk is None:
            self.maxschedchunk = len(collection)
        if stack_tests:
            stack_worker = self.nodes[0]
            self.node2pending[stack_worker].extend(stack_tests)
            stack_worker.send_runtest_some(stack_tests)
        # Load scheduling's refill: a worker below its low-water mark gets a chunk of the pool (the
        # stack worker, once through most of its stack tests); with the pool empty, a worker is
        # told to shut down after what it holds.
        for node in self.nodes:
            self.check_schedule(node)


class StackScheduling:
    """The pytest plugin (tests/conftest.py registers it); ``guarded`` are the suites whose
    collection must not import the provider and whose non-stack tests must not either."""

    def __init__(self, guarded: tuple[Path, ...]) -> None:
        self.guarded = guarded
        self._ids_dir: Path | None = None
        self._stack_test_ids: frozenset[str] = frozenset()
        self._stack_workers: set[str] = set()

    def _is_guarded(self, path: Path) -> bool:
        return any(path.is_relative_to(suite) for suite in self.guarded)

    # The controller.

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self._ids_dir is None:
            self._ids_dir = Path(tempfile.mkdtemp(prefix="stack-test-ids-"))
        node.workerinput[IDS_DIR_KEY] = str(self._ids_dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        written = Path(node.workerinput[IDS_DIR_KEY], f"{node.workerinput['workerid']}.json")
        if not written.is_file():
            raise RuntimeError(f"xdist worker {node.gateway.id} wrote no ids of its stack tests (into {written})")
        stack_test_ids = frozenset(json.loads(written.read_text()))
        if not stack_test_ids <= set(ids):
            raise RuntimeError(
                f"stack test ids that are not in the collection: {sorted(stack_test_ids - set(ids))[:3]}"
            )
        self._stack_test_ids |= stack_test_ids

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        # In place of the default (-n without --dist, "load"); an explicit --dist keeps its own.
        if config.getvalue("dist") != "load":
            return None
        return StacksFirstScheduling(config, log, lambda: self._stack_test_ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        node = getattr(report, "node", None)  # set on the controller by xdist: the worker that ran it
        if node is not None and report.nodeid in self._stack_test_ids:
            self._stack_workers.add(node.gateway.id)

    def _split(self, config: pytest.Config) -> bool:
        # Only where this scheduler is meant to be in use: a split is what an explicit --dist does.
        return len(self._stack_workers) > 1 and config.getvalue("dist") == "load"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._split(session.config) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        if self._split(config):
            workers = ", ".join(sorted(self._stack_workers))
            terminalreporter.write_line(
                f"stack tests ran on {len(self._stack_workers)} xdist workers ({workers}): "
                "each of them imported the AWS provider and synthesized (testkit/stack_scheduling.py)",
                red=True,
            )

    def pytest_unconfigure(self) -> None:
        if self._ids_dir is not None:
            shutil.rmtree(self._ids_dir, ignore_errors=True)

    # Every process that collects: the controller never does, xdist workers and plain runs do.

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        imported_before = AWS_PROVIDER in sys.modules
        report = yield
        if not imported_before and AWS_PROVIDER in sys.modules and self._is_guarded(collector.path):
            report.outcome = "failed"
            report.longrepr = (
                f"collecting {collector.nodeid} imported {AWS_PROVIDER} (~18 CPU-s in every xdist worker): "
                "import stack code (lib.components, lib.tap_stack, ...) in the tests or fixtures that use it, "
                f"and mark those `{MARKER}` unless they use the session synth (testkit/stack_scheduling.py)"
            )
        return report

    @pytest.hookimpl(tryfirst=True)  # before xdist's own hook reports the collection to the controller
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        workerinput = getattr(session.config, "workerinput", {})
        if IDS_DIR_KEY in workerinput:
            ids = [item.nodeid for item in session.items if needs_stacks(item)]
            Path(workerinput[IDS_DIR_KEY], f"{workerinput['workerid']}.json").write_text(json.dumps(ids))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._no_provider_import(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._no_provider_import(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._no_provider_import(item))

    def _no_provider_import(self, item: pytest.Item) -> Generator[None, None, None]:
        imported_before = AWS_PROVIDER in sys.modules
        yield
        if (
            not imported_before
            and AWS_PROVIDER in sys.modules
            and self._is_guarded(item.path)
            and not needs_stacks(item)
        ):
            pytest.fail(
                f"{item.nodeid} imported {AWS_PROVIDER} but is not a stack test, so the scheduler may run it "
                f"on a worker that never needed the provider: mark it `{MARKER}` (testkit/stack_scheduling.py)",
                pytrace=False,
            )
