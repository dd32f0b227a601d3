"""Figure 4: importing each handler in a fresh interpreter vs a fresh ``import boto3``.

Each run is a new ``python -S`` process whose ``sys.path`` is what Lambda gives a
function: its code (``build/function``, the ``payment_core`` package every function ships),
the layer's ``python/`` (``build/layer``, as built), then
only what the python3.12 runtime provides (boto3, botocore, s3transfer, jmespath, dateutil,
six, urllib3: linked from the venv), so a dependency missing from the layer would fail here
as it would in Lambda. The environment is a function's
(``LAMBDA_TASK_ROOT`` set, so Powertools' Tracer is live as in Lambda). Bytecode is
neither written nor found for the layer and function code, as on Lambda's read-only /opt,
because the layer ships none; the venv's boto3 has its bytecode, as the runtime's has.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from bench.report import Figure, ratio_at_most
from lib.lambda_sources import handler_for
from lib.layer import function_code_dir
from testkit import ROOT
from testkit.environment import HANDLER_ENVIRONMENT
from testkit.handlers import FUNCTIONS

RUNS = 10
TARGET = 1.5
TIMED_IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


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


RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def runtime_dir(workdir: Path) -> Path:
    """What Lambda's runtime puts on the path: these packages and nothing else from the venv."""
    runtime = workdir / "runtime"
    runtime.mkdir()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site_packages / name)
    return runtime


def import_seconds(module: str, function: str | None, paths: list[str]) -> float:
    completed = subprocess.run(
        [sys.executable, "-S", "-c", TIMED_IMPORT.format(module=module)],
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
        [sys.executable, "-S", "-X", "importtime", "-c", f"import {handler_module(function)}"],
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


def _paths(layer: Path, code: Path, runtime: Path) -> list[str]:
    return [str(code), str(layer), str(runtime)]


def _compiled_copy(workdir: Path) -> tuple[Path, Path]:
    """The layer and the function code with bytecode, to show what shipping it would save."""
    layer = workdir / "layer"
    code = workdir / "function"
    shutil.copytree(Path(ROOT, "build/layer/python"), layer)
    shutil.copytree(function_code_dir(), code)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(workdir)], check=True)
    return layer, code


def run(runs: int = RUNS, log: Any = print) -> list[Figure]:
    layer = Path(ROOT, "build/layer/python")
    if not layer.is_dir():
        subprocess.run([sys.executable, "-m", "lib.layer"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    code = function_code_dir()
    samples: dict[str, list[float]] = {name: [] for name in ("boto3", *FUNCTIONS)}
    compiled: dict[str, list[float]] = {name: [] for name in FUNCTIONS}
    figures = []
    with tempfile.TemporaryDirectory() as workdir:
        runtime = runtime_dir(Path(workdir))
        compiled_layer, compiled_code = _compiled_copy(Path(workdir))
        for _ in range(runs):  # interleaved, so load elsewhere hits every subject alike
            samples["boto3"].append(import_seconds("boto3", None, [str(runtime)]))
            for function in FUNCTIONS:
                shipped = _paths(layer, code, runtime)
                samples[function].append(import_seconds(handler_module(function), function, shipped))
                with_bytecode = _paths(compiled_layer, compiled_code, runtime)
                compiled[function].append(import_seconds(handler_module(function), function, with_bytecode))
        boto3_ms = statistics.median(samples["boto3"]) * 1000
        for function in FUNCTIONS:
            figure = Figure(
                "cold start",
                f"import {handler_module(function)}, median of {runs}",
                statistics.median(samples[function]) * 1000,
                "ms",
                "import boto3",
                boto3_ms,
                f"<= {TARGET}x",
                ratio_at_most(TARGET),
            )
            figures += [
                figure,
                Figure(
                    "cold start",
                    f"import {handler_module(function)}, bytecode shipped",
                    statistics.median(compiled[function]) * 1000,
                    "ms",
                    "import boto3",
                    boto3_ms,
                ),
            ]
            if not figure.passed:
                costs = import_cost_by_package(function, _paths(layer, code, runtime))
                heaviest = ", ".join(f"{name} {ms:.0f}" for name, ms in costs)
                log(f"  {function} misses; import time by package (-X importtime, self ms): {heaviest}")
    return figures
