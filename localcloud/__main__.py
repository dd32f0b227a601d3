"""``python -m localcloud {start,stop,status} --state-dir .localcloud``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from localcloud.launcher import LocalCloudError, read_endpoint, start_daemon, stop_daemon


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud")
    parser.add_argument("command", choices=["start", "stop", "status", "endpoint"])
    parser.add_argument("--state-dir", type=Path, default=Path(".localcloud"))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    parser.add_argument(
        "--lambda-concurrency-limit",
        type=int,
        default=None,
        help="start: the account's Lambda concurrency quota (default: $LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT or 1000;"
        " a new account has 50)",
    )
    args = parser.parse_args(argv)

    if args.command == "start":
        try:
            endpoint = start_daemon(
                args.state_dir, startup_timeout=args.timeout, lambda_concurrency_limit=args.lambda_concurrency_limit
            )
        except LocalCloudError as exc:
            print(f"localcloud: {exc}", file=sys.stderr)
            return 1
        print(endpoint)
        return 0
    if args.command == "stop":
        stopped = stop_daemon(args.state_dir, timeout=args.timeout)
        print("stopped" if stopped else "not running")
        return 0
    try:
        endpoint = read_endpoint(args.state_dir)
    except (LocalCloudError, OSError) as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 1
    print(endpoint if args.command == "endpoint" else f"running at {endpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
