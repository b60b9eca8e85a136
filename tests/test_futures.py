"""Futures on work (issue 13), on both stores and a simulated clock: a buyer escrows a
price for named work by a deadline; a seller accepts by posting collateral and is paid the
price at once; the work itself (a paid commit or issue) or the buyer's confirmation
delivers it before the deadline, else settle fails it (collateral to the buyer) or, with
nobody accepting, expires it (price back). Every step keeps conservation and doctor."""

from __future__ import annotations

import inspect
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent_token_exchange import (
    Exchange,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    Refused,
    SystemClock,
    open_exchange,
)
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.future_api import FutureAPI
from agent_token_exchange.service.futures import settle_futures

from .ledger_checks import assert_invariants, snapshot
from .test_concurrency import DEADLINE_S, _guard, _run_workers

HOUR = 3600


def settle(ex: Exchange) -> list[Any]:
    """Settle's step for futures (service/settle.py runs it among the others)."""
    return settle_futures(ex._core)


def tokens(ex: Exchange, agent: str) -> Decimal:
    return ex.balance(agent).tokens


def escrow(ex: Exchange, future_id: str) -> Decimal:
    return ex.future_show(future_id).escrow


def test_open_escrows_the_price_and_accept_pays_the_seller_upfront(exchange):
    """Opening moves the price from the buyer into the escrow; accepting moves the
    seller's collateral in and the price out to the seller at once."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=24)
    assert (f.id, f.status, f.escrow, f.price) == ("future-1", "open", 300, 300)
    assert f.deadline == f.created_at + 24 * HOUR * 10**6
    assert tokens(exchange, "claude") == 9_700
    assert_invariants(exchange)
    accepted = exchange.future_accept(f.id, "builder")
    assert (accepted.status, accepted.seller, accepted.escrow) == ("accepted", "builder", 100)
    assert tokens(exchange, "builder") == 10_000 - 100 + 300
    assert_invariants(exchange)


def test_futures_are_neither_earned_nor_spent(exchange):
    """A future's transfers move a wallet's market figure, never its earned or spent."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=1)
    exchange.future_accept(f.id, "builder")
    buyer, seller = exchange.balance("claude"), exchange.balance("builder")
    assert (buyer.earned, buyer.spent, buyer.market) == (0, 0, -300)
    assert (seller.earned, seller.spent, seller.market) == (0, 0, 200)


def test_manual_work_confirmed_by_the_buyer_returns_the_collateral(exchange):
    """The buyer confirms manual work: the collateral goes back to the seller, the future
    is delivered, and only the buyer may confirm."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=2)
    exchange.future_accept(f.id, "builder")
    with pytest.raises(NotAllowed, match="only future-1's buyer"):
        exchange.future_confirm(f.id, agent="builder")
    done = exchange.future_confirm(f.id)
    assert (done.status, done.escrow, done.proof) == ("delivered", 0, "confirmed by claude")
    assert tokens(exchange, "builder") == 10_300 and tokens(exchange, "claude") == 9_700
    with pytest.raises(NotAllowed, match="delivered"):
        exchange.future_confirm(f.id)
    assert settle(exchange) == []
    assert_invariants(exchange)


def test_a_missed_deadline_fails_the_future_and_forfeits_the_collateral(exchange, clock):
    """Accepted and undelivered when the deadline passes: settle fails it and the
    collateral goes to the buyer; the seller keeps the price it was paid."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=24)
    exchange.future_accept(f.id, "builder")
    clock.advance(24 * HOUR - 1)
    assert settle(exchange) == []  # not yet due
    clock.advance(1)
    with pytest.raises(NotAllowed, match="deadline has passed"):
        exchange.future_confirm(f.id)
    items = settle(exchange)
    assert [(i.area, i.id, i.outcome, i.amount) for i in items] == [
        ("future", "future-1", "failed", 100)]
    failed = exchange.future_show(f.id)
    assert (failed.status, failed.escrow) == ("failed", 0)
    assert tokens(exchange, "claude") == 9_800 and tokens(exchange, "builder") == 10_200
    before = snapshot(exchange)
    assert settle(exchange) == []  # idempotent
    assert snapshot(exchange) == before
    assert_invariants(exchange)


def test_an_unaccepted_future_expires_and_refunds_the_buyer(exchange, clock):
    """Nobody accepted by the deadline: settle expires it and refunds the price; nobody
    may accept it after its deadline, even before settle ran."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100,
                             deadline_hours="90m")
    clock.advance(90 * 60)
    with pytest.raises(NotAllowed, match="deadline has passed"):
        exchange.future_accept(f.id, "builder")
    items = settle(exchange)
    assert [(i.outcome, i.amount) for i in items] == [("expired", 300)]
    assert exchange.future_show(f.id).status == "expired"
    assert tokens(exchange, "claude") == 10_000
    assert_invariants(exchange)


def test_cancel_before_acceptance_refunds_and_after_it_is_refused(exchange):
    """The buyer cancels an open future and gets the price back; an accepted future, or
    another agent, cannot cancel."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=24)
    with pytest.raises(NotAllowed, match="only future-1's buyer"):
        exchange.future_cancel(f.id, agent="builder")
    cancelled = exchange.future_cancel(f.id)
    assert (cancelled.status, cancelled.escrow) == ("cancelled", 0)
    assert tokens(exchange, "claude") == 10_000
    g = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=24)
    exchange.future_accept(g.id, "zero")
    with pytest.raises(NotAllowed, match="only an open future"):
        exchange.future_cancel(g.id)
    with pytest.raises(NotAllowed, match="not open"):
        exchange.future_accept(f.id, "builder")
    assert_invariants(exchange)


def test_a_named_seller_alone_may_accept_and_the_buyer_never(exchange):
    """With a seller named only that agent accepts; a buyer cannot sell to itself."""
    with pytest.raises(NotAllowed, match="cannot sell work to itself"):
        exchange.future_open("claude", "manual", price=1, collateral=1, deadline_hours=1,
                             seller="claude")
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=24,
                             seller="zero")
    assert f.named_seller == "zero"
    with pytest.raises(NotAllowed, match="offered to zero only"):
        exchange.future_accept(f.id, "builder")
    g = exchange.future_open("claude", "manual", price=5, collateral=5, deadline_hours=24)
    with pytest.raises(NotAllowed, match="its own"):
        exchange.future_accept(g.id, "claude")
    assert exchange.future_accept(f.id, "zero").seller == "zero"
    assert [x.id for x in exchange.futures("zero")] == ["future-1"]
    assert [x.id for x in exchange.futures("claude")] == ["future-1", "future-2"]
    assert_invariants(exchange)


def test_the_reserve_applies_to_the_price_and_to_the_collateral(exchange):
    """Opening and accepting are outflows: neither may leave a wallet under its reserve,
    and a refusal changes nothing."""
    before = snapshot(exchange)
    with pytest.raises(InsufficientFunds, match="reserve"):
        exchange.future_open("claude", "manual", price=9_600, collateral=1, deadline_hours=1)
    f = exchange.future_open("claude", "manual", price=1, collateral=9_600, deadline_hours=1)
    middle = snapshot(exchange)
    with pytest.raises(InsufficientFunds, match="reserve"):
        exchange.future_accept(f.id, "builder")
    assert snapshot(exchange) == middle and middle != before
    assert exchange.refusals("builder")[0].operation == "future_accept"
    assert_invariants(exchange)


@pytest.mark.parametrize(("work", "message"), [
    ("", "work must be"),
    ("anything", "work must be bd:"),
    ("bd:", "names an issue id"),
    ("bd:two words", "names an issue id"),
    ("commit:", "project pattern of 1-200"),
    ("commit:(?=lookahead)", "not a valid linear-time"),
    ("commit:(unclosed", "not a valid linear-time"),
])
def test_bad_work_is_one_line_of_invalid_input(exchange, work, message):
    """Malformed work, or a project pattern RE2 cannot take, is InvalidInput in one line."""
    with pytest.raises(InvalidInput, match=message) as caught:
        exchange.future_open("claude", work, price=1, collateral=1, deadline_hours=1)
    assert "\n" not in caught.value.message
    assert exchange.futures() == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"price": 0}, "price must be greater than zero"),
    ({"price": "-5"}, "price must be positive"),
    ({"collateral": "1.0000001"}, "collateral"),
    ({"deadline_hours": 0}, "deadline must be a positive"),
    ({"deadline_hours": "soon"}, "deadline must be a positive"),
    ({"deadline_hours": "400d"}, "too far away"),
    ({"deadline_hours": True}, "deadline must be hours"),
    ({"seller": "nobody"}, "unknown agent"),
])
def test_bad_amounts_deadlines_and_names_are_invalid_input(exchange, fields, message):
    """Each bad field is InvalidInput naming it; nothing is written."""
    args: dict[str, Any] = {"price": 10, "collateral": 10, "deadline_hours": 1, **fields}
    with pytest.raises(InvalidInput, match=message):
        exchange.future_open("claude", "manual", **args)
    assert exchange.futures() == []


def test_unknown_or_malformed_future_ids_are_invalid_input(exchange):
    """An id that is not future-N, or names no future, is InvalidInput."""
    for bad in ("future-0", "pool-1", "future-1; drop", 7):
        with pytest.raises(InvalidInput, match="future id must look like future-1"):
            exchange.future_show(bad)
    with pytest.raises(InvalidInput, match="unknown future 'future-9'"):
        exchange.future_accept("future-9", "builder")


def test_a_key_replays_an_open_and_never_escrows_twice(exchange):
    """The same idempotency key opens once; the replay says so; another request under it
    conflicts."""
    first = exchange.future_open("claude", "manual", price=300, collateral=100,
                                 deadline_hours=24, idempotency_key="job-1")
    again = exchange.future_open("claude", "manual", price=300, collateral=100,
                                 deadline_hours=24, idempotency_key="job-1")
    assert again.replayed and again.id == first.id
    assert tokens(exchange, "claude") == 9_700 and len(exchange.futures()) == 1
    with pytest.raises(Exception, match="already used for a different request"):
        exchange.future_open("claude", "manual", price=301, collateral=100,
                             deadline_hours=24, idempotency_key="job-1")
    assert_invariants(exchange)


# -- delivery by the work itself ------------------------------------------------------------


def test_the_issue_paid_to_the_seller_delivers_its_bd_future(exchange):
    """Paying bd-7's reward to the seller returns the collateral in the same write; the
    same issue paid to another agent, or another issue, delivers nothing."""
    f = exchange.future_open("claude", "bd:bd-7", price=300, collateral=100, deadline_hours=24)
    exchange.future_accept(f.id, "builder")
    exchange.pay_issue("bd-8", "builder", priority=2, issue_type="task")
    assert exchange.future_show(f.id).status == "accepted"
    paid = exchange.pay_issue("bd-7", "builder", priority=2, issue_type="task")
    assert paid.amount == 240  # P2 300 × task 0.8
    done = exchange.future_show(f.id)
    assert (done.status, done.escrow) == ("delivered", 0)
    assert done.proof == "issue bd-7 paid to builder"
    assert paid.tokens == tokens(exchange, "builder") == 10_000 - 100 + 300 + 240 + 240 + 100
    assert exchange.balance("builder").earned == 480
    assert_invariants(exchange)


def test_an_issue_paid_to_someone_else_or_earning_nothing_does_not_deliver(exchange):
    """The issue paid to another agent, or closed as won't fix (earning nothing), leaves
    the future accepted."""
    f = exchange.future_open("claude", "bd:bd-7", price=300, collateral=100, deadline_hours=24)
    exchange.future_accept(f.id, "builder")
    exchange.pay_issue("bd-7", "zero", priority=2, issue_type="task")
    assert exchange.future_show(f.id).status == "accepted"
    g = exchange.future_open("claude", "bd:bd-9", price=300, collateral=100, deadline_hours=24)
    exchange.future_accept(g.id, "builder")
    exchange.pay_issue("bd-9", "builder", priority=2, issue_type="task",
                       close_reason="won't fix")
    assert exchange.future_show(g.id).status == "accepted"
    assert_invariants(exchange)


def test_work_paid_after_the_deadline_delivers_nothing(exchange, clock):
    """The issue paid once the deadline has passed (settle not yet run) leaves the future
    to settle, which fails it."""
    f = exchange.future_open("claude", "bd:bd-7", price=300, collateral=100, deadline_hours=1)
    exchange.future_accept(f.id, "builder")
    clock.advance(HOUR)
    exchange.pay_issue("bd-7", "builder", priority=2, issue_type="task")
    assert exchange.future_show(f.id).status == "accepted"
    assert [i.outcome for i in settle(exchange)] == ["failed"]
    assert_invariants(exchange)


def test_a_paid_commit_to_a_matching_project_delivers_its_commit_future(exchange):
    """A commit by the seller to a project the pattern fully matches delivers; a partial
    match, or another author, does not."""
    f = exchange.future_open("claude", "commit:nexushive-.*", price=300, collateral=100,
                             deadline_hours=24)
    exchange.future_accept(f.id, "builder")
    exchange.commit("claude@aygp-dr.ai", "nexushive-setup", "feat: x", "a" * 40)
    exchange.commit("builder@aygp-dr.ai", "my-nexushive-setup", "feat: x", "b" * 40)
    assert exchange.future_show(f.id).status == "accepted"
    paid = exchange.commit("builder@aygp-dr.ai", "nexushive-setup", "feat: y", "c" * 40)
    done = exchange.future_show(f.id)
    assert done.status == "delivered" and done.proof == (
        f"commit {'c' * 12} to nexushive-setup paid to builder")
    assert paid.tokens == tokens(exchange, "builder")
    assert_invariants(exchange)


def test_one_payment_delivers_every_matching_future_of_the_seller(exchange):
    """Two accepted futures on the same issue's work, from two buyers, are both delivered
    by the one payment; a buyer's future accepted by someone else is not."""
    a = exchange.future_open("claude", "bd:bd-7", price=10, collateral=20, deadline_hours=5)
    b = exchange.future_open("zero", "bd:bd-7", price=10, collateral=30, deadline_hours=5)
    c = exchange.future_open("zero", "bd:bd-7", price=10, collateral=40, deadline_hours=5)
    for future, seller in ((a, "builder"), (b, "builder"), (c, "lambda")):
        exchange.future_accept(future.id, seller)
    exchange.pay_issue("bd-7", "builder", priority=2, issue_type="task")
    assert [f.status for f in exchange.futures()] == ["delivered", "delivered", "accepted"]
    assert_invariants(exchange)


def test_futures_api_has_one_signature_on_both_exchanges():
    """Each ``FutureAPI`` method exists on ``Exchange`` and ``ExchangeClient`` with the
    very signature the Protocol declares."""
    names = [n for n in vars(FutureAPI) if n.startswith("future")]
    assert len(names) == 6
    for name in names:
        declared = inspect.signature(getattr(FutureAPI, name))
        for implementation in (Exchange, ExchangeClient):
            assert str(inspect.signature(getattr(implementation, name))) == str(declared), (
                implementation.__name__, name)


# -- concurrency ------------------------------------------------------------------------------


def _accept(index: int, barrier: Any, results: Any, home: str) -> None:
    sellers = ("builder", "zero", "lambda", "spark")

    def work() -> str:
        with open_exchange(home, clock=SystemClock(), durable=False) as ex:
            barrier.wait(timeout=DEADLINE_S)
            try:
                ex.future_accept("future-1", sellers[index % len(sellers)])
                return "accepted"
            except Refused as exc:
                return exc.code

    _guard(index, results, work)


def test_concurrent_accepts_of_one_future_admit_exactly_one(home: Path):
    """Eight processes accept future-1 at once (four sellers): exactly one is admitted,
    one collateral is held and one price paid."""
    with open_exchange(home, clock=SystemClock()) as ex:
        ex.future_open("claude", "manual", price=300, collateral=100, deadline_hours=24)
    outcomes = sorted(_run_workers(_accept, [(str(home),)] * 8))
    assert outcomes == ["accepted"] + ["not_allowed"] * 7
    with open_exchange(home, clock=SystemClock()) as ex:
        f = ex.future_show("future-1")
        assert f.status == "accepted" and f.escrow == 100
        assert sum(ex.balance(a).market for a in ex.agents()) == -100
        assert_invariants(ex)


def test_doctor_names_an_escrow_that_disagrees_with_its_future(exchange):
    """A future whose row says delivered while its escrow still holds the collateral (a
    ledger changed behind the exchange's back) is a doctor error naming both."""
    f = exchange.future_open("claude", "manual", price=300, collateral=100, deadline_hours=2)
    exchange.future_accept(f.id, "builder")
    assert [x.ok for x in exchange.doctor().findings if x.check == "futures"] == [True]
    with exchange.store.transaction():  # tampering, as tests/ledger_checks.py does
        exchange.store.execute("UPDATE futures SET status = 'delivered' WHERE id = ?", (f.id,))
    report = exchange.doctor()
    assert not report.healthy
    assert [x.message for x in report.errors] == [
        "escrow:future-1 holds 100.00 but future-1 is delivered and should hold 0.00"]
