"""Figure 3: synthesizing dev, staging and prod in one process vs the floor.

The floor is the least any synth can cost here: a fresh process that imports cdktf and the
AWS provider and synthesizes a stack holding only the provider. Each run is a fresh
subprocess (``python -m bench.synth floor|stacks OUTDIR``); the best of N is kept. The
shared layer is built first, so the stack synth finds it cached (its pip step is skipped)
and the timing is synth, not pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.emulator import ROOT
from bench.report import Figure, ratio_at_most

TARGET = 1.5


def synth_floor(outdir: str) -> None:
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    app = App(outdir=outdir)
    stack = TerraformStack(app, "Floor")
    AwsProvider(stack, "aws", region="us-east-1")
    app.synth()


def synth_stacks(outdir: str) -> None:
    from cdktf import App

    from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings
    from lib.tap_stack import synth_environments

    app = App(outdir=outdir)
    stacks = synth_environments(app, preset_settings(alarm_subscribers=SYNTH_ONLY_SUBSCRIBERS))
    app.synth()
    built = sorted(path.parent.name for path in Path(outdir, "stacks").glob("*/cdk.tf.json"))
    expected = sorted(stack.node.id for stack in stacks.values())
    if built != expected:
        raise RuntimeError(f"synthesized {built}, expected {expected}")


def build_layer_first() -> None:
    """What the stack's synth would otherwise do on its first run (pip into build/layer)."""
    subprocess.run([sys.executable, "-m", "lib.layer"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_kib: int  # the largest single process (python or its jsii node child), from wait4
    tree_rss_kib: int  # python + node together, sampled every 50 ms


def _tree_rss_kib(pid: int) -> int:
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(kind: str) -> Run:
    with tempfile.TemporaryDirectory() as outdir:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bench.synth", kind, outdir], cwd=ROOT)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, _tree_rss_kib(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"synth {kind} exited with {process.returncode}")
        return Run(seconds=elapsed, max_rss_kib=usage.ru_maxrss, tree_rss_kib=peak)


def run(repeats: int = 3, log: Any = print) -> list[Figure]:
    build_layer_first()
    runs: dict[str, list[Run]] = {"floor": [], "stacks": []}
    for _ in range(repeats):  # interleaved, so a burst of load elsewhere hits both alike
        for kind in runs:
            runs[kind].append(measure(kind))
            log(f"  synth {kind}: {runs[kind][-1].seconds:.1f} s")
    best = {kind: min(each, key=lambda run: run.seconds) for kind, each in runs.items()}
    peak = {kind: max(each, key=lambda run: run.tree_rss_kib) for kind, each in runs.items()}
    largest = {kind: max(run.max_rss_kib for run in each) for kind, each in runs.items()}
    return [
        Figure(
            "synth",
            f"dev+staging+prod in one process, best of {repeats}",
            best["stacks"].seconds,
            "s",
            "floor",
            best["floor"].seconds,
            f"<= {TARGET}x",
            ratio_at_most(TARGET),
        ),
        Figure(
            "synth",
            "peak RSS, python + jsii node (sampled)",
            peak["stacks"].tree_rss_kib / 1024,
            "MiB",
            "floor",
            peak["floor"].tree_rss_kib / 1024,
        ),
        Figure(
            "synth",
            "peak RSS, largest single process (wait4)",
            largest["stacks"] / 1024,
            "MiB",
            "floor",
            largest["floor"] / 1024,
        ),
    ]


if __name__ == "__main__":
    {"floor": synth_floor, "stacks": synth_stacks}[sys.argv[1]](sys.argv[2])
