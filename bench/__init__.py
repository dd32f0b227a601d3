"""Benchmarks for the people who run the platform: AWS calls, memory, synth time, cold start, latency.

Run with ``make bench`` (or ``python -m bench``). Every figure is printed beside a baseline
measured in the same run; the process exits non-zero when a target is missed. Not part of
``make test``: the figures depend on the machine and its load.
"""
