"""``python -m bench [--only batchmap,synth,cold,api,throughput] [--markdown FILE]``: run, print, exit 1 on a miss."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench import api_latency, batch_map, cold_start, emulator_throughput, synth
from bench.report import Figure, markdown, render

SECTIONS: dict[str, tuple[str, Callable[[], list[Figure]]]] = {
    "batchmap": ("per-file workflow: calls per 1,000 rows, per-invocation rows and memory, timeout", batch_map.run),
    "synth": ("synth time and memory", synth.run),
    "cold": ("handler cold start (import time)", cold_start.run),
    "api": ("API latency against a moto server", api_latency.run),
    # Deploys the prod stack to the emulator: about 5 minutes.
    "throughput": ("payments per minute on the emulator, warm vs cold Lambda", emulator_throughput.run),
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {', '.join(SECTIONS)}")
    parser.add_argument("--markdown", metavar="FILE", help="also write the figures as a Markdown table")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")

    started = time.perf_counter()
    print(f"bench: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, {platform.machine()}")
    figures: list[Figure] = []
    for name in chosen:
        title, run = SECTIONS[name]
        section_started = time.perf_counter()
        print(f"== {title}", flush=True)
        figures += run()
        print(f"   ({time.perf_counter() - section_started:.0f} s)", flush=True)

    print()
    print(render(figures))
    for note in dict.fromkeys(f"{figure.section}: {note}" for figure in figures for note in figure.notes):
        print(f"note: {note}")
    missed = [figure for figure in figures if figure.passed is False]
    print(f"\n{len(figures)} figures, {len(missed)} target(s) missed, {time.perf_counter() - started:.0f} s in all")
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(markdown(figures) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
