"""The app ``tap.py`` synthesizes: one environment's ``TapStack<suffix>`` and the account stack
``TapAccount`` it depends on (``make deploy`` deploys both)."""

from __future__ import annotations

from cdktf import App

from lib.account_stack import synth_with_account_stack
from lib.settings import DeploymentSettings
from lib.stack_base import EmulatorProvider
from lib.tap_stack import synth_environments


def build_app(
    settings: DeploymentSettings, *, emulator_provider: EmulatorProvider | None = None, app: App | None = None
) -> App:
    """``app`` (a new ``App`` by default) holding the settings' environment stack and TapAccount.

    ``emulator_provider`` is what the entry point passes when the settings target the local
    emulator: ``lib/`` takes the overrides, it never imports the emulator itself.
    """
    app = App() if app is None else app
    stacks = synth_environments(app, {settings.stack_name: settings}, emulator_provider=emulator_provider)
    # The account stack (once per account and region), applied before the environment stack.
    synth_with_account_stack(app, stacks[settings.stack_name], settings, emulator_provider=emulator_provider)
    return app
