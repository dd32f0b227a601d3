"""The processor connector contract: what any connector (contract.PROCESSOR_CONNECTORS) must do.

Each connector is built by name, as the workflow builds it, and driven with its own test values
(``TEST_VALUES`` of its module: which customer_ref approves, declines, ...). A new connector
passes these before it can be named in a config.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from payment_core import contract
from payment_core.errors import PaymentDeclined, TransientProcessorError
from payment_core.payments import connector as connectors
from payment_core.payments import processor
from payment_core.payments.connector import ProcessorConnector, authorization_ref, connector_named, operation_key

# Each connector's test values, by the name the config gives it.
TEST_VALUES = {contract.PROCESSOR_SIMULATOR: processor.TEST_VALUES}


@pytest.fixture(params=contract.PROCESSOR_CONNECTORS)
def connector(request: pytest.FixtureRequest) -> ProcessorConnector:
    return connector_named(request.param)


def values(connector: ProcessorConnector) -> dict[str, str]:
    return TEST_VALUES[connector.name]


def charge(connector, outcome, attempt, amount):
    """What an authorization and a refund both carry: an amount in USD, the attempt, and the
    customer whose test value makes the connector answer ``outcome``."""
    return {
        "amount": Decimal(amount),
        "currency": "USD",
        "customer_ref": values(connector)[outcome],
        "attempt": attempt,
    }


def authorize(connector, payment_id, outcome="approve", attempt=1, amount="25.00"):
    key = operation_key(connectors.OPERATION_AUTHORIZE, payment_id)
    request = connectors.AuthorizeRequest(
        idempotency_key=key, payment_id=payment_id, **charge(connector, outcome, attempt, amount)
    )
    return connector.authorize(request)


def refund(connector, refund_id, ref, outcome="approve", attempt=1, amount="5.00"):
    key = operation_key(connectors.OPERATION_REFUND, refund_id)
    return connector.refund(
        connectors.RefundRequest(idempotency_key=key, processor_ref=ref, **charge(connector, outcome, attempt, amount))
    )


def capture(connector, payment_id, ref, amount="25.00", authorized="25.00"):
    return connector.capture(
        connectors.CaptureRequest(
            idempotency_key=operation_key(connectors.OPERATION_CAPTURE, payment_id),
            processor_ref=ref,
            amount=Decimal(amount),
            authorized=Decimal(authorized),
            currency="USD",
        )
    )


def test_every_configurable_name_builds_a_connector_carrying_it(connector):
    assert connector.name in contract.PROCESSOR_CONNECTORS


def test_an_unknown_name_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match=r"^PROCESSOR_CONNECTOR must be one of simulator, got 'stripe'$"):
        connector_named("stripe")


def test_an_authorization_carries_the_reference_known_before_the_call(connector):
    assert authorize(connector, "pay_a").reference == authorization_ref("pay_a")


def test_the_same_idempotency_key_answers_the_same_without_a_second_effect(connector):
    first = authorize(connector, "pay_b")
    again = authorize(connector, "pay_b", attempt=2)
    assert again == first
    cap = capture(connector, "pay_b", first.reference)
    assert capture(connector, "pay_b", first.reference) == cap
    ref = refund(connector, "re_1", first.reference)
    assert refund(connector, "re_1", first.reference) == ref
    assert refund(connector, "re_2", first.reference) != ref  # another refund id: another refund


def test_a_decline_is_final_and_a_transient_failure_retryable(connector):
    with pytest.raises(PaymentDeclined, match=r"^card_declined$"):
        authorize(connector, "pay_c", "decline")
    with pytest.raises(TransientProcessorError):
        authorize(connector, "pay_d", "unavailable", attempt=5)


def test_a_timeout_is_transient_and_the_retry_with_the_same_key_succeeds(connector):
    with pytest.raises(TransientProcessorError, match="timed out"):
        authorize(connector, "pay_e", "flaky", attempt=1)
    assert authorize(connector, "pay_e", "flaky", attempt=3).reference == authorization_ref("pay_e")


def test_a_capture_above_the_authorized_amount_is_declined(connector):
    ref = authorize(connector, "pay_f").reference
    with pytest.raises(PaymentDeclined, match=r"^amount_exceeds_authorization$"):
        capture(connector, "pay_f", ref, amount="25.01")
    assert capture(connector, "pay_f", ref, amount="10.00").reference


def test_a_refund_can_be_declined_for_insufficient_funds_or_time_out(connector):
    ref = authorize(connector, "pay_g", "refund_declined").reference
    capture(connector, "pay_g", ref)
    with pytest.raises(PaymentDeclined, match=r"^insufficient_funds$"):
        refund(connector, "re_g", ref, "refund_declined")
    with pytest.raises(TransientProcessorError, match="timed out"):
        refund(connector, "re_h", ref, "refund_flaky", attempt=1)
    assert refund(connector, "re_h", ref, "refund_flaky", attempt=3).reference


def test_voiding_answers_even_for_an_authorization_never_issued(connector):
    voided = connector.void(
        connectors.VoidRequest(operation_key(connectors.OPERATION_VOID, "pay_never"), authorization_ref("pay_never"))
    )
    assert voided.reference


def test_the_simulator_ledger_records_each_call_and_each_effect_once():
    simulator = processor.SimulatorConnector()
    ref = authorize(simulator, "pay_l").reference
    authorize(simulator, "pay_l", attempt=2)
    capture(simulator, "pay_l", ref, amount="20.00")
    with pytest.raises(PaymentDeclined):
        refund(simulator, "re_x", ref, "refund_declined")
    refund(simulator, "re_y", ref)
    refund(simulator, "re_y", ref)

    ledger = simulator.ledger
    assert [(e.operation, e.outcome) for e in ledger.entries] == [
        ("authorize", "performed"),
        ("authorize", "replayed"),
        ("capture", "performed"),
        ("refund", "declined"),
        ("refund", "performed"),
        ("refund", "replayed"),
    ]
    assert ledger.times_performed(operation_key(connectors.OPERATION_REFUND, "re_y")) == 1
    assert [e.amount for e in ledger.performed(connectors.OPERATION_CAPTURE)] == [Decimal("20.00")]
