#!/usr/bin/env python
"""CDKTF entry point: read the deployment settings from the environment, build TapStack<suffix>
and the account stack TapAccount it depends on (``make deploy`` deploys both).

The only place that knows about the local emulator: when ``LOCAL_CLOUD_ENDPOINT`` is set it
takes the provider overrides from ``localcloud.provider`` and hands them to the stack, so
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
    from cdktf import App

    from lib.account_stack import synth_with_account_stack
    from lib.tap_stack import EmulatorProvider, synth_environments

    emulator_provider: EmulatorProvider | None = None
    if settings.emulator is not None:
        from localcloud.provider import provider_overrides

        emulator_provider = provider_overrides
    app = App()
    stacks = synth_environments(app, {settings.stack_name: settings}, emulator_provider=emulator_provider)
    # The account stack (once per account and region), applied before the environment stack.
    synth_with_account_stack(app, stacks[settings.stack_name], settings, emulator_provider=emulator_provider)
    app.synth()


if __name__ == "__main__":
    main()
