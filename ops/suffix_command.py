"""What the ops commands that reach a deployed stack by its environment suffix share: their arguments.

``make restore`` and ``make rollback`` name the stack's resources from the suffix it was deployed
with, and reach AWS (or any AWS-compatible endpoint, such as the local emulator's) in the region
boto3 would choose unless told. Credentials come from boto3's usual chain, never an argument.
"""

from __future__ import annotations

import argparse


def suffix_command(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of ``python -m ops.<module>`` (described by the first line of ``doc``), with the
    ``--suffix``, ``--endpoint`` and ``--region`` every such command takes."""
    parser = argparse.ArgumentParser(prog=f"python -m ops.{module}", description=(doc or "").splitlines()[0])
    parser.add_argument("--suffix", required=True, help="the environment suffix the stack was deployed with")
    parser.add_argument("--endpoint", default=None, help="AWS-compatible endpoint URL (default: AWS)")
    parser.add_argument("--region", default=None, help="AWS region (default: boto3's)")
    return parser
