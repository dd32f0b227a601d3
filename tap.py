#!/usr/bin/env python
"""CDKTF entry point: read the deployment settings from the environment, build one TapStack."""

from __future__ import annotations

import sys

from lib.settings import read_settings


def main() -> None:
    try:
        settings = read_settings()
    except ValueError as error:
        sys.exit(f"tap.py: {error}")
    # Imported only once the settings are known good: loading the provider takes seconds.
    from cdktf import App

    from lib.tap_stack import TapStack

    app = App()
    TapStack(app, settings.stack_name, settings=settings)
    app.synth()


if __name__ == "__main__":
    main()
