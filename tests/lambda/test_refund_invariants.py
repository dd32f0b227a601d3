"""The money invariants under random sequences and concurrent refunds, against the real handlers
and repository on moto: a hypothesis ``RuleBasedStateMachine`` over create (manual or automatic),
capture (partial), void, expiry and refunds (one at a time, and several at once from threads, each
thread its own api handler instance as separate Lambda environments are), with the workflow's
steps run as the state machine runs them (retried steps included). After every step: captured <=
authorized; pending + succeeded refunds <= captured (and the payment's counters equal its
refunds); nothing captured after a void or expiry; nothing refunded unless captured; every
processor operation performed at most once per operation id, and exactly once for each capture,
void and succeeded refund."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from payment_core import contract
from payment_core.payments.connector import OPERATION_CAPTURE, OPERATION_REFUND, OPERATION_VOID, operation_key
from payment_core.payments.processor import PERFORMED

from testkit.api import VALID_BODY, call, post, stored_payment, workflow_step
from testkit.events import api_event
from testkit.refunds import api_instance, refund, refund_call, run_refund, serialize_dynamodb

AMOUNTS = ("10.00", "125.50", "3.33")
THREADS = 3


class Waker:
    def wake(self, task_token: str, payment: object) -> None:
        """The execution is driven by the test: the wake-up is the test running Release."""


@pytest.fixture(scope="module", autouse=True)
def serialized_dynamodb() -> None:
    serialize_dynamodb()


def test_money_invariants_hold_over_random_sequences_and_concurrent_refunds(aws, context, moto_clients):
    waker = Waker()
    aws.handlers["api"].waker.override(waker)
    aws.handlers["workflow"].waker.override(waker)
    instances = [api_instance(moto_clients) for _ in range(THREADS)]
    ledger = aws.handlers["workflow"].connector().ledger
    keys = itertools.count()

    class Money(RuleBasedStateMachine):
        payments = Bundle("payments")

        def __init__(self) -> None:
            super().__init__()
            self.created: list[str] = []
            self.refunds: dict[str, str] = {}  # refund id -> its payment id

        @rule(target=payments, manual=st.booleans(), amount=st.sampled_from(AMOUNTS))
        def create(self, manual: bool, amount: str) -> str:
            capture = contract.CAPTURE_MANUAL if manual else contract.CAPTURE_AUTOMATIC
            status, body = post(aws, context, VALID_BODY | {"amount": amount, "capture": capture}, key=f"p{next(keys)}")
            assert status == 202, body
            payment_id = str(body["payment_id"])
            workflow_step(aws, context, contract.STEP_VALIDATE, payment_id)
            workflow_step(aws, context, contract.STEP_PROCESS, payment_id)
            if manual:
                workflow_step(aws, context, contract.STEP_AWAIT_CAPTURE, payment_id, task_token="t")
            else:
                workflow_step(aws, context, contract.STEP_RECORD, payment_id)
            self.created.append(payment_id)
            return payment_id

        def _ask(self, payment_id: str, action: str, body: dict | None) -> None:
            path = f"/payments/{payment_id}/{action}"
            text = None if body is None else json.dumps(body)
            status, answer = call(aws, context, api_event("POST", path, body=text))
            assert status in (202, 409), answer
            if status == 202:
                for _ in range(2):  # a retried step does nothing twice
                    workflow_step(aws, context, contract.STEP_RELEASE, payment_id)

        @rule(payment_id=payments, share=st.sampled_from(("0.5", "1", "0.01")))
        def capture(self, payment_id: str, share: str) -> None:
            amount = Decimal(stored_payment(aws, payment_id)["amount"])
            part = max(Decimal("0.01"), (amount * Decimal(share)).quantize(Decimal("0.01")))
            self._ask(payment_id, contract.CAPTURE_PATH_PART, {"amount": str(part)})

        @rule(payment_id=payments)
        def void(self, payment_id: str) -> None:
            self._ask(payment_id, contract.VOID_PATH_PART, None)

        @rule(payment_id=payments)
        def expire(self, payment_id: str) -> None:
            if stored_payment(aws, payment_id)["capture_method"] == contract.CAPTURE_MANUAL:
                workflow_step(aws, context, contract.STEP_EXPIRE, payment_id)

        @rule(payment_id=payments, amount=st.sampled_from((None, "0.01", "1.00", "5.00", "200.00")), run=st.booleans())
        def refund_one(self, payment_id: str, amount: str | None, run: bool) -> None:
            before = stored_payment(aws, payment_id)
            status, body = refund(
                aws, context, payment_id, f"r{next(keys)}", None if amount is None else {"amount": amount}
            )
            if before["status"] != "SETTLED":
                assert (status, body["error"]["code"]) == (409, contract.NOT_REFUNDABLE)
                return
            left = before.get("amount_refundable", Decimal(before["amount_captured"]))
            fits = left > 0 and (amount is None or Decimal(amount) <= left)
            assert status == (202 if fits else 409), body
            if status == 409:
                assert body["error"]["code"] == contract.REFUND_EXCEEDS_CAPTURED
                return
            self.refunds[body["refund_id"]] = payment_id
            if run:
                run_refund(aws, context, body["refund_id"])
                run_refund(aws, context, body["refund_id"])  # redelivered: nothing twice

        @rule(
            payment_id=payments,
            amounts=st.lists(st.sampled_from(("1.00", "2.00", "60.00", "100.00")), min_size=2, max_size=THREADS),
        )
        def concurrent_refunds(self, payment_id: str, amounts: list[str]) -> None:
            before = stored_payment(aws, payment_id)
            calls = [(instances[i], f"c{next(keys)}", amount) for i, amount in enumerate(amounts)]
            with ThreadPoolExecutor(len(calls)) as pool:
                answers = list(pool.map(lambda c: refund_call(c[0], context, payment_id, c[1], c[2]), calls))
            accepted = [Decimal(a) for a, (status, _b) in zip(amounts, answers, strict=True) if status == 202]
            refused = [Decimal(a) for a, (status, _b) in zip(amounts, answers, strict=True) if status != 202]
            if before["status"] != "SETTLED":
                assert {(s, b["error"]["code"]) for s, b in answers} == {(409, contract.NOT_REFUNDABLE)}
                return
            left = before.get("amount_refundable", Decimal(before["amount_captured"]))
            # Exactly those that fit: what was accepted fits, and each refused one does not fit in the rest.
            assert sum(accepted, Decimal(0)) <= left
            assert all(amount > left - sum(accepted, Decimal(0)) for amount in refused), (amounts, answers)
            assert {b["error"]["code"] for s, b in answers if s != 202} <= {contract.REFUND_EXCEEDS_CAPTURED}
            for status, body in answers:
                if status == 202:
                    self.refunds[body["refund_id"]] = payment_id

        @rule()
        def run_pending(self) -> None:
            for refund_id in list(self.refunds):
                run_refund(aws, context, refund_id)

        @invariant()
        def money_adds_up(self) -> None:
            items = {item["payment_id"]: item for item in aws.payments()}
            for payment_id in self.created:
                item = items[payment_id]
                captured = Decimal(item.get("amount_captured", 0))
                assert captured <= Decimal(item["amount"])
                mine = [items[r] for r, p in self.refunds.items() if p == payment_id]
                if item["status"] in ("VOIDED", "EXPIRED"):
                    assert captured == 0 and not mine
                    assert ledger.times_performed(operation_key(OPERATION_VOID, payment_id)) == 1
                if item["status"] != "SETTLED":
                    assert not mine and "refund_ids" not in item
                    continue
                if item["capture_method"] == contract.CAPTURE_MANUAL:
                    assert ledger.times_performed(operation_key(OPERATION_CAPTURE, payment_id)) == 1
                pending = sum((r["amount"] for r in mine if r["status"] == "PENDING"), Decimal(0))
                succeeded = sum((r["amount"] for r in mine if r["status"] == "SUCCEEDED"), Decimal(0))
                assert pending + succeeded <= captured
                assert Decimal(item.get("amount_refund_pending", 0)) == pending
                assert Decimal(item.get("amount_refunded", 0)) == succeeded
                assert Decimal(item.get("amount_refundable", captured)) == captured - pending - succeeded
                for each in mine:
                    performed = ledger.times_performed(operation_key(OPERATION_REFUND, each["refund_id"]))
                    assert performed == (1 if each["status"] == "SUCCEEDED" else 0)

        @invariant()
        def each_operation_at_most_once(self) -> None:
            performed = [entry.idempotency_key for entry in ledger.entries if entry.outcome == PERFORMED]
            assert len(performed) == len(set(performed))

    run_state_machine_as_test(
        Money,
        settings=settings(
            max_examples=5,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
