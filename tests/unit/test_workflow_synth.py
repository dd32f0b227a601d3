"""The payment state machine as synthesized: what Terraform sends to Step Functions, not the Python
dict ``workflow_definition`` builds (tests/unit/test_workflow.py reads that one).

The two differ: cdktf renders the definition through ``Fn.jsonencode`` and drops every None, so a
catcher written ``"ResultPath": None`` (ASL's "keep the input, discard the error") reached Step
Functions with no ResultPath at all, whose default ``$`` replaces the payment with the error: every
expiry failed in Expire and left the payment AUTHORIZED (#19). Read from the session's synth.
"""

from __future__ import annotations

from typing import Any

import pytest

from lib.config import ENVIRONMENTS, config_for
from tests.unit.synth import SynthesizedStack, jsonencoded

# Every synthesized stack, with the preset whose config it was built from ("local" is dev's).
STACKS = {**{environment: environment for environment in ENVIRONMENTS}, "local": "dev"}


def synthesized_definition(stack: SynthesizedStack) -> dict[str, Any]:
    from lib.components.workflow import STATE_MACHINE_NAME

    suffix = stack.stack.node.id.removeprefix("TapStack")
    machine = stack.named("aws_sfn_state_machine", "name", f"{STATE_MACHINE_NAME}-{suffix}")
    definition: dict[str, Any] = jsonencoded(machine["definition"])
    return definition


@pytest.fixture(scope="module", params=sorted(STACKS))
def synthesized(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> tuple[str, dict[str, Any]]:
    return STACKS[request.param], synthesized_definition(stacks[request.param])


def test_every_catcher_keeps_the_input_beside_the_error(synthesized: tuple[str, dict[str, Any]]) -> None:
    """A catcher's ResultPath must name a field below the root: absent (or ``$``) the next state
    gets the error alone and no ``payment_id``, which every step reads."""
    _, definition = synthesized
    catchers = [(name, catcher) for name, state in definition["States"].items() for catcher in state.get("Catch", [])]
    assert len(catchers) >= 6, catchers  # the payment steps, Refund and AwaitCapture all catch
    for name, catcher in catchers:
        assert "ResultPath" in catcher, f"{name}'s catcher → {catcher['Next']} has no ResultPath: {catcher}"
        path = catcher["ResultPath"]
        assert isinstance(path, str) and path.startswith("$.") and path != "$.payment_id", (name, catcher)
        assert catcher["Next"] in definition["States"], (name, catcher)


def test_an_uncaptured_authorization_times_out_into_expire_with_the_payment(
    synthesized: tuple[str, dict[str, Any]],
) -> None:
    preset, definition = synthesized
    wait = definition["States"]["AwaitCapture"]
    assert wait["Catch"] == [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.expiry", "Next": "Expire"}]
    assert wait["TimeoutSeconds"] == config_for(preset).processor.authorization_window_seconds
    # Expire reads the payment id the catcher kept.
    assert definition["States"]["Expire"]["Parameters"] == {"step": "expire", "payment_id.$": "$.payment_id"}


def test_the_reader_keeps_references_and_literals() -> None:
    """The HCL-to-JSON reader on the shapes cdktf writes: a bare reference, an interpolated string,
    escapes, numbers, booleans, nested lists and objects."""
    expression = (
        '${jsonencode({"A" = aws_lambda_function.f_1.qualified_arn, "B" = "arn:${data.aws_partition.p.partition}:x",'
        ' "C" = [1, 2.5, true, false], "D" = {"E" = "say \\"= [x]\\""}})}'
    )
    assert jsonencoded(expression) == {
        "A": "aws_lambda_function.f_1.qualified_arn",
        "B": "arn:${data.aws_partition.p.partition}:x",
        "C": [1, 2.5, True, False],
        "D": {"E": 'say "= [x]"'},
    }
