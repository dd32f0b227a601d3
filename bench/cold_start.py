"""Figure 4: importing each handler in a fresh python3.12 interpreter vs a fresh ``import boto3``.

Each run is a new ``python3.12 -S`` process (the interpreter of the functions' runtime, found
by ``lib.python_runtime``) whose ``sys.path`` is what Lambda gives a function: its code
(``build/function``, the ``payment_core`` package every function ships), the layer's ``python/``
(``build/layer``), both as built and shipped, bytecode included,
then only the SDK the python3.12 runtime bundles (boto3/botocore at the runtime's version,
with its bytecode, as the runtime has it), so a dependency missing from the layer would fail
here as it would in Lambda. The environment is a function's (``LAMBDA_TASK_ROOT`` set, so
Powertools' Tracer is live as in Lambda). Nothing writes bytecode, as on Lambda's read-only
/opt and /var/task.

Two variants are measured in the same interleaved rounds, for the record (no target):

* code and layer without their bytecode (what shipped before they were compiled);
* boto3/botocore pinned in the layer (the versions the tests run with, compiled, ahead of the
  runtime's on the path): the question of issue #18 item 6, decided in docs/lambda-runtime.md.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.report import Figure, ratio_at_most
from lib.lambda_sources import handler_for
from lib.layer import LAYER_MOUNT, function_code_dir
from lib.python_runtime import LAMBDA_RUNTIME, find_interpreter, runtime_sdk_dir
from localcloud.lambda_runtimes import runtime_sdk
from testkit import ROOT
from testkit.environment import HANDLER_ENVIRONMENT
from testkit.handlers import FUNCTIONS

# Rounds per figure. One quiet run's 30 imports of one subject spread over +-25% (import boto3:
# 267-451 ms, 2026-12-04 00:52), so a median of 10 moved a function's ratio by up to 0.45x between
# two runs minutes apart (the sweeper: 1.14x in 20 interleaved rounds, 1.59x in a median of 10);
# 20 rounds halve the variance of each median.
RUNS = 20
TARGET = 1.5
TIMED_IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
PINNED_SDK = ("boto3", "botocore")


def _environment(function: str | None, paths: list[str]) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
        **HANDLER_ENVIRONMENT,
    }
    env.pop("POWERTOOLS_TRACE_DISABLED")
    if function is not None:
        env["LAMBDA_TASK_ROOT"] = paths[0]
        env["AWS_LAMBDA_FUNCTION_NAME"] = f"payment-{function}-bench"
    return env


def import_seconds(module: str, function: str | None, paths: list[str]) -> float:
    completed = subprocess.run(
        [str(find_interpreter(LAMBDA_RUNTIME)), "-S", "-c", TIMED_IMPORT.format(module=module)],
        env=_environment(function, paths),
        check=True,
        capture_output=True,
        text=True,
    )
    return float(completed.stdout.strip())


def import_cost_by_package(function: str, paths: list[str], count: int = 7) -> list[tuple[str, float]]:
    """Where importing the handler module spends its time (``-X importtime`` self times summed per
    top-level package), heaviest first, in ms."""
    completed = subprocess.run(
        [str(find_interpreter(LAMBDA_RUNTIME)), "-S", "-X", "importtime", "-c", f"import {handler_module(function)}"],
        env=_environment(function, paths),
        check=True,
        capture_output=True,
        text=True,
    )
    costs: dict[str, float] = {}
    for line in completed.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            costs[package] = costs.get(package, 0.0) + int(match.group(1)) / 1000
    return sorted(costs.items(), key=lambda item: -item[1])[:count]


def handler_module(function: str) -> str:
    """The module of the function's handler string."""
    return handler_for(function).rpartition(".")[0]


def _without_bytecode(tree: Path, copy: Path) -> Path:
    shutil.copytree(tree, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _pinned_sdk() -> Path:
    """boto3/botocore at the versions the tests run with, built for 3.12 as the layer would ship them."""
    pins = tuple(f"{name}=={importlib.metadata.version(name)}" for name in PINNED_SDK)
    return runtime_sdk_dir(LAMBDA_RUNTIME, Path(ROOT, "build", "bench-sdk"), pins=pins, mount=LAYER_MOUNT)


def _megabytes(tree: Path) -> float:
    return sum(path.stat().st_size for path in tree.rglob("*") if path.is_file()) / 1e6


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(runs: int = RUNS, log: Any = print) -> list[Figure]:
    layer = Path(ROOT, "build/layer/python")
    if not layer.is_dir():
        subprocess.run([sys.executable, "-m", "lib.layer"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    code = function_code_dir()
    sdk = runtime_sdk(LAMBDA_RUNTIME)
    pinned = _pinned_sdk()
    variants = ("shipped", "without bytecode", "sdk pinned in layer")
    samples: dict[tuple[str, str], list[float]] = {}
    boto3_samples: list[float] = []
    with tempfile.TemporaryDirectory() as workdir:
        bare_layer = _without_bytecode(layer, Path(workdir, "layer"))
        bare_code = _without_bytecode(code, Path(workdir, "function"))

        def paths(variant: str) -> list[str]:
            bare = variant == "without bytecode"
            extra = [pinned] if variant == "sdk pinned in layer" else []
            return [str(p) for p in (bare_code if bare else code, bare_layer if bare else layer, *extra, sdk)]

        for _ in range(runs):  # interleaved, so load elsewhere hits every subject alike
            boto3_samples.append(import_seconds("boto3", None, [str(sdk)]))
            for function in FUNCTIONS:
                for variant in variants:
                    seconds = import_seconds(handler_module(function), function, paths(variant))
                    samples.setdefault((function, variant), []).append(seconds)
        boto3_ms = _median_ms(boto3_samples)
        log(
            f"  python3.12 runtime SDK {sdk.name}; layer {_megabytes(layer):.1f} MB unzipped, "
            f"{_megabytes(layer) + _megabytes(pinned):.1f} MB with {pinned.name.split('-', 1)[1]} pinned in it"
        )
        figures = []
        for function in FUNCTIONS:
            figure = Figure(
                "cold start",
                f"import {handler_module(function)} on 3.12, median of {runs}",
                _median_ms(samples[(function, "shipped")]),
                "ms",
                "import boto3",
                boto3_ms,
                f"<= {TARGET}x",
                ratio_at_most(TARGET),
            )
            figures.append(figure)
            for variant in variants[1:]:
                figures.append(
                    Figure(
                        "cold start",
                        f"import {handler_module(function)}, {variant}",
                        _median_ms(samples[(function, variant)]),
                        "ms",
                        "import boto3",
                        boto3_ms,
                    )
                )
            if not figure.passed:
                costs = import_cost_by_package(function, paths("shipped"))
                heaviest = ", ".join(f"{name} {ms:.0f}" for name, ms in costs)
                log(f"  {function} misses; import time by package (-X importtime, self ms): {heaviest}")
    return figures
