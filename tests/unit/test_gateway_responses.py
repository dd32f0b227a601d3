"""Every gateway response renders to JSON under API Gateway's real substitution (issue #11).

The substitution is localcloud's (``localcloud.gateway_responses.substitute``), which follows
the AWS documentation without escaping anything; the messages are chosen to break a template
that embeds them: quotes, brackets, backslashes, a newline, the validator's own wording.
"""

from __future__ import annotations

import json

import pytest

from lib.gateway_responses import GATEWAY_ANSWERS, gateway_template
from localcloud.gateway_responses import GatewayError, substitute

HOSTILE_MESSAGES = [
    "Invalid request body",
    '[object has missing required properties (["amount","currency"])]',
    'ECMA 262 regex "^[0-9]{1,15}(\\.[0-9]{1,3})?$" does not match input string "1e5"',
    'say "hi" \\ and ] } {',
    "line one\nline two",
    "",
]


@pytest.mark.parametrize("response_type", sorted(GATEWAY_ANSWERS))
@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_every_template_renders_json_for_any_message(response_type: str, message: str) -> None:
    answer = GATEWAY_ANSWERS[response_type]
    error = GatewayError(
        response_type,
        400,
        message,
        validation_error=message,
        context={"requestId": "5f0c8a8e-2f0e-4c55-9d7b-1a2b3c4d5e6f"},
    )

    rendered = json.loads(substitute(gateway_template(answer), error))

    assert rendered == {
        "error": {
            "code": answer.code,
            "message": answer.message,
            "type": response_type,
            "request_id": "5f0c8a8e-2f0e-4c55-9d7b-1a2b3c4d5e6f",
        }
    }


def test_the_templates_embed_no_message_variable() -> None:
    for answer in GATEWAY_ANSWERS.values():
        template = gateway_template(answer)
        assert "$context.error.message" not in template
        assert "$context.error.validationErrorString" not in template
