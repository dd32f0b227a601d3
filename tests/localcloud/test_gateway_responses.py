"""localcloud.gateway_responses.substitute: API Gateway's simple variable substitution, no kinder.

No emulator needed: these pin the substitution rules the driver applies to every gateway
response (see the module docstring for the AWS documentation they follow).
"""

from __future__ import annotations

import json

import pytest

from localcloud.gateway_responses import DEFAULT_TEMPLATE, GatewayError, substitute

BODY = GatewayError("BAD_REQUEST_BODY", 400, "Invalid request body", '[object has missing required properties (["a"])]')


def test_message_string_is_the_message_between_quotes() -> None:
    assert substitute(DEFAULT_TEMPLATE, BODY) == '{"message":"Invalid request body"}'
    assert json.loads(substitute(DEFAULT_TEMPLATE, BODY)) == {"message": "Invalid request body"}


def test_message_string_quotes_but_does_not_escape() -> None:
    """The documentation promises quotes ("namely "$context.error.message""), not JSON escaping:
    the driver adds none, so a message with a quote or backslash breaks the template here,
    as it may on AWS."""
    hostile = GatewayError("DEFAULT_4XX", 403, 'say "hi" \\ now')

    rendered = substitute(DEFAULT_TEMPLATE, hostile)

    assert rendered == '{"message":"say "hi" \\ now"}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(rendered)


def test_validation_error_string_is_raw() -> None:
    assert (
        substitute("$context.error.validationErrorString", BODY) == '[object has missing required properties (["a"])]'
    )
    quoted = substitute('{"m": "$context.error.validationErrorString"}', BODY)
    bare = substitute('{"m": $context.error.validationErrorString}', BODY)
    for rendered in (quoted, bare):
        with pytest.raises(json.JSONDecodeError):
            json.loads(rendered)


def test_message_response_type_and_null_message() -> None:
    template = '{"m": "$context.error.message", "t": "$context.error.responseType", "s": $context.error.messageString}'
    configuration_error = GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 500, None)

    assert json.loads(substitute(template, BODY)) == {
        "m": "Invalid request body",
        "t": "BAD_REQUEST_BODY",
        "s": "Invalid request body",
    }
    assert json.loads(substitute(template, configuration_error)) == {
        "m": "",
        "t": "AUTHORIZER_CONFIGURATION_ERROR",
        "s": None,
    }


def test_longest_variable_name_wins_and_unknown_variables_stay() -> None:
    rendered = substitute("$context.error.messageString|$context.error.message|$context.unknown.thing", BODY)

    assert rendered == '"Invalid request body"|Invalid request body|$context.unknown.thing'
