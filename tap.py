#!/usr/bin/env python
"""CDKTF entry point: read the deployment settings from the environment and synthesize the app
``lib.app.build_app`` builds (TapStack<suffix> and the account stack TapAccount it depends on).

The only place that knows about the local emulator: when ``LOCAL_CLOUD_ENDPOINT`` is set it
takes the provider overrides from ``localcloud.provider`` and hands them to the app, so
``lib/`` never imports ``localcloud`` (a dev-only dependency).
"""

from __future__ import annotations

import sys

from lib.settings import read_settings


def main() -> None:
    try:
        settings = read_settings()
    except ValueError as error:
        sys.exit(f"tap.py: {error}")
    # Imported only once the settings are known good: loading the provider takes seconds.
    from lib.app import build_app
    from lib.stack_base import EmulatorProvider

    emulator_provider: EmulatorProvider | None = None
    if settings.emulator is not None:
        from localcloud.provider import provider_overrides

        emulator_provider = provider_overrides
    build_app(settings, emulator_provider=emulator_provider).synth()


if __name__ == "__main__":
    main()
