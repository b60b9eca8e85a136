"""Loans on a simulated clock, on both stores: offer, take, repay early with interest exact
to the microsecond, default at the due time and recover later, the credit record, the
refusals (reserve, own offer, max_defaults, cancel by another, overpaying), and doctor's
escrow check. Conservation and doctor hold after every step."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from agent_token_exchange import (
    Exchange,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    SimulatedClock,
    init_exchange,
    open_exchange,
)
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.economy import loan_rules
from agent_token_exchange.economy.accounts import Kind
from agent_token_exchange.loans_api import LoanAPI

from .ledger_checks import (
    assert_invariants,
    snapshot,
    sqlite_connection,
    tamper_with_offer_status,
)

HOUR = 3600
D = Decimal


def wallet(ex: Exchange, agent: str) -> Decimal:
    return ex.balance(agent).tokens


def test_offer_take_and_early_repay_pay_interest_exact_for_the_time_elapsed(
        exchange: Exchange, clock: SimulatedClock):
    """1,000 at 1 % a day repaid after 6 hours costs exactly 2.5 interest: the lender ends
    2.5 up, the borrower 2.5 down, the loan is repaid, and the wallets show it as market
    flow (neither earned nor spent)."""
    ex = exchange
    offer = ex.loan_offer("builder", 1000, rate_per_day=D("0.01"), term_hours=48)
    assert (offer.id, offer.status, offer.amount, offer.rate_per_day) == (
        "offer-1", "open", D(1000), D("0.01"))
    assert wallet(ex, "builder") == D(9000)
    assert_invariants(ex)
    loan = ex.loan_take(offer.id, "claude")
    assert (loan.id, loan.status, loan.borrower, loan.lender) == ("loan-1", "open", "claude",
                                                                  "builder")
    assert loan.due_at - loan.taken_at == 48 * HOUR * 1_000_000
    assert ex.loan_offer_show("offer-1").status == "taken"
    assert ex.loan_offer_show("offer-1").loan_id == "loan-1"
    assert wallet(ex, "claude") == D(11000)
    assert_invariants(ex)
    clock.advance(6 * HOUR)
    assert ex.loan_show("loan-1").interest_due == D("2.5")
    assert ex.loan_show("loan-1").owed == D("1002.5")
    paid = ex.loan_repay("loan-1")
    assert (paid.amount, paid.interest, paid.principal, paid.owed, paid.status) == (
        D("1002.5"), D("2.5"), D(1000), D(0), "repaid")
    assert wallet(ex, "claude") == D("9997.5") and wallet(ex, "builder") == D("10002.5")
    assert ex.balance("claude").market == D("-2.5") and ex.balance("claude").spent == 0
    assert ex.balance("builder").market == D("2.5") and ex.balance("builder").earned == 0
    shown = ex.loan_show("loan-1")
    assert (shown.status, shown.interest_paid, shown.principal_paid, shown.owed) == (
        "repaid", D("2.5"), D(1000), D(0))
    assert shown.repaid_at == clock.now_us()
    history = ex.history("claude", 3)
    assert history[0].description == "loan-1 repaid: interest 2.5, principal 1000"
    assert history[0].type == Kind.LOAN_REPAY and history[0].amount == D("-1002.5")
    assert history[1].description == "loan-1 drawn from offer-1 (lender builder)"
    assert_invariants(ex)


def test_partial_repayments_pay_interest_first_and_carry_what_is_left(
        exchange: Exchange, clock: SimulatedClock):
    """A repayment smaller than the interest pays only interest (the rest is carried, and
    bears none); the next pays the carried interest, then principal; interest accrues
    only on what is outstanding, rounded up to the micro-token."""
    ex = exchange
    ex.loan_offer("builder", 100, rate_per_day="2%", term_hours="2d")
    ex.loan_take("offer-1", "zero")
    clock.advance(24 * HOUR)  # 2 interest
    first = ex.loan_repay("loan-1", "0.5")
    assert (first.interest, first.principal, first.owed) == (D("0.5"), D(0), D("101.5"))
    clock.advance(12 * HOUR)  # 1 more on 100, none on the 1.5 carried
    second = ex.loan_repay("loan-1", "52.5")
    assert (second.interest, second.principal, second.owed) == (D("2.5"), D(50), D(50))
    clock.advance(micros=1)  # 50 * 0.02 / 86_400_000_000 a microsecond: rounds up to 1e-6
    assert ex.loan_show("loan-1").interest_due == D("0.000001")
    assert ex.loan_repay("loan-1").amount == D("50.000001")
    assert ex.loan_show("loan-1").status == "repaid"
    assert_invariants(ex)


def test_a_default_at_the_due_time_collects_above_the_reserve_and_recovers_later(
        exchange: Exchange, clock: SimulatedClock):
    """At the due time settle collects what the borrower holds above its reserve (500) and
    marks the loan defaulted; a second settle changes nothing; the borrower repays the rest
    later (interest still accruing) and the default stays on its credit record."""
    ex = exchange
    ex.loan_offer("builder", 2000, rate_per_day="1%", term_hours="24h")
    ex.loan_take("offer-1", "claude")  # claude holds 12,000
    ex.loan_offer("claude", 11000, rate_per_day=0, term_hours=24)  # claude keeps 1,000
    assert ex.lending.settle_due() == []  # nothing due yet
    clock.advance(24 * HOUR)
    before = snapshot(ex)
    items = ex.lending.settle_due()
    assert len(items) == 1
    item = items[0]
    assert (item.area, item.id, item.outcome, item.amount) == ("loan", "loan-1", "defaulted",
                                                                D(500))
    assert "1520 left owing" in item.detail  # owed 2,020: 20 interest, then 500 collected
    assert wallet(ex, "claude") == D(500) and wallet(ex, "builder") == D(8500)
    assert snapshot(ex) != before
    loan = ex.loan_show("loan-1")
    assert (loan.status, loan.interest_paid, loan.principal_paid, loan.outstanding) == (
        "defaulted", D(20), D(480), D(1520))
    assert loan.defaulted_at == clock.now_us()
    assert ex.history("claude", 1)[0].description == (
        "loan-1 collected at due time: interest 20, principal 480")
    assert_invariants(ex)
    after = snapshot(ex)
    assert ex.lending.settle_due() == [] and snapshot(ex) == after  # idempotent
    credit = ex.credit("claude")
    assert (credit.loans_taken, credit.loans_repaid, credit.loans_defaulted) == (1, 0, 1)
    assert credit.in_default == credit.owed == D(1520)
    assert ex.credit("builder").lent == D(1520)
    clock.advance(12 * HOUR)  # 1520 * 1 % / 2 = 7.6 more
    assert ex.loan_show("loan-1").owed == D("1527.6")
    ex.loan_cancel("offer-2")  # claude's 11,000 comes back
    paid = ex.loan_repay("loan-1")
    assert (paid.amount, paid.interest, paid.principal, paid.status) == (
        D("1527.6"), D("7.6"), D(1520), "repaid")
    credit = ex.credit("claude")
    assert (credit.loans_repaid, credit.loans_defaulted, credit.in_default, credit.owed) == (
        1, 1, D(0), D(0))
    assert ex.loan_show("loan-1").defaulted_at is not None
    assert_invariants(ex)


def test_a_borrower_holding_enough_is_collected_in_full_at_the_due_time(
        exchange: Exchange, clock: SimulatedClock):
    """A borrower with enough above its reserve is collected everything owed at the due
    time: the loan is repaid, interest counted to the due time and not after."""
    ex = exchange
    ex.loan_offer("observer", 300, rate_per_day="0.5%", term_hours=48)
    ex.loan_take("offer-1", "spark")
    clock.advance(50 * HOUR)  # settle runs late: interest stops at the due time
    [item] = ex.lending.settle_due()
    assert (item.outcome, item.amount) == ("repaid", D(303))
    assert ex.loan_show("loan-1").status == "repaid"
    assert wallet(ex, "observer") == D(10003)
    assert ex.credit("spark").loans_defaulted == 0
    assert_invariants(ex)


def test_max_defaults_refuses_a_borrower_with_more_defaults(
        exchange: Exchange, clock: SimulatedClock):
    """An offer asking for at most 0 defaults refuses a borrower with one (NotAllowed, nothing
    changes); an offer allowing 1 lends to it."""
    ex = exchange
    ex.loan_offer("builder", 100, rate_per_day="1%", term_hours=1)
    ex.loan_take("offer-1", "zero")
    ex.loan_offer("zero", 9600, rate_per_day=0, term_hours=1)  # zero keeps its 500 reserve
    clock.advance(HOUR)
    assert [i.outcome for i in ex.lending.settle_due()] == ["defaulted"]
    strict = ex.loan_offer("lambda", 50, rate_per_day="1%", term_hours=1, max_defaults=0)
    assert strict.max_defaults == 0
    before = snapshot(ex)
    with pytest.raises(NotAllowed, match="at most 0 default"):
        ex.loan_take(strict.id, "zero")
    assert snapshot(ex) == before
    assert ex.loan_offer_show(strict.id).status == "open"
    assert ex.refusals("zero")[0].operation == "loan_take"
    lenient = ex.loan_offer("lambda", 50, rate_per_day="1%", term_hours=1, max_defaults=1)
    assert ex.loan_take(lenient.id, "zero").principal == D(50)
    assert ex.loan_take(strict.id, "claude").borrower == "claude"  # no defaults: welcome
    assert_invariants(ex)


def test_cancel_returns_the_escrow_only_for_the_lender_and_only_once(exchange: Exchange):
    """Only the lender cancels; the escrow returns in full; a cancelled offer can be neither
    cancelled again nor taken, and a taken one cannot be cancelled."""
    ex = exchange
    ex.loan_offer("builder", 700, rate_per_day="1%", term_hours=5)
    with pytest.raises(NotAllowed, match="only offer-1's lender"):
        ex.loan_cancel("offer-1", agent="claude")
    cancelled = ex.loan_cancel("offer-1", agent="builder")
    assert (cancelled.status, cancelled.closed_at is not None) == ("cancelled", True)
    assert wallet(ex, "builder") == D(10000)
    with pytest.raises(NotAllowed, match="cancelled"):
        ex.loan_cancel("offer-1")
    with pytest.raises(NotAllowed, match="cancelled"):
        ex.loan_take("offer-1", "claude")
    ex.loan_offer("builder", 10, rate_per_day="1%", term_hours=5)
    ex.loan_take("offer-2", "claude")
    with pytest.raises(NotAllowed, match="taken"):
        ex.loan_cancel("offer-2")
    assert ex.history("builder", 1)[0].type == Kind.LOAN_ESCROW
    assert [h.description for h in ex.history("builder", 3)][1] == (
        "offer-1 cancelled: escrow returned")
    assert_invariants(ex)


def test_offers_are_outflows_under_the_reserve(exchange: Exchange):
    """An offer leaving less than the reserve (500) is refused (reserve), one over the
    wallet is refused (insufficient funds); neither changes anything."""
    ex = exchange
    before = snapshot(ex)
    with pytest.raises(InsufficientFunds) as reserve:
        ex.loan_offer("claude", "9500.000001", rate_per_day="1%", term_hours=1)
    assert reserve.value.code == "reserve"
    with pytest.raises(InsufficientFunds) as funds:
        ex.loan_offer("claude", 10001, rate_per_day="1%", term_hours=1)
    assert funds.value.code == "insufficient_funds"
    assert snapshot(ex) == before and ex.loan_offers() == []
    assert ex.loan_offer("claude", 9500, rate_per_day="1%", term_hours=1).amount == D(9500)
    assert_invariants(ex)


def test_the_rules_of_taking_and_repaying_refuse_what_they_must(
        exchange: Exchange, clock: SimulatedClock):
    """A lender cannot borrow its own offer; only the borrower repays; overpaying is
    refused (capping is not done); a repaid loan takes no more; a repayment under the
    reserve is refused."""
    ex = exchange
    ex.loan_offer("builder", 100, rate_per_day="1%", term_hours=24)
    with pytest.raises(NotAllowed, match="own offer"):
        ex.loan_take("offer-1", "builder")
    ex.loan_take("offer-1", "claude")
    clock.advance(HOUR)
    before = snapshot(ex)
    with pytest.raises(NotAllowed, match="borrower"):
        ex.loan_repay("loan-1", 10, agent="builder")
    with pytest.raises(NotAllowed, match="overpay"):
        ex.loan_repay("loan-1", 101)
    assert snapshot(ex) == before
    ex.loan_offer("claude", 9600, rate_per_day="1%", term_hours=24)  # claude keeps 500
    before = snapshot(ex)
    with pytest.raises(InsufficientFunds):
        ex.loan_repay("loan-1", 1)
    assert snapshot(ex) == before
    ex.loan_cancel("offer-2")
    ex.loan_repay("loan-1", agent="claude")
    with pytest.raises(NotAllowed, match="repaid already"):
        ex.loan_repay("loan-1")
    assert_invariants(ex)


def test_an_idempotency_key_applies_an_offer_and_a_repayment_once(
        exchange: Exchange, clock: SimulatedClock):
    """The same key again returns the first record marked replayed and moves nothing."""
    ex = exchange
    first = ex.loan_offer("builder", 100, rate_per_day="1%", term_hours=24,
                          idempotency_key="offer-a")
    again = ex.loan_offer("builder", 100, rate_per_day="1%", term_hours=24,
                          idempotency_key="offer-a")
    assert again.replayed and again.id == first.id and len(ex.loan_offers()) == 1
    ex.loan_take("offer-1", "claude", idempotency_key="take-a")
    assert ex.loan_take("offer-1", "claude", idempotency_key="take-a").replayed
    clock.advance(HOUR)
    paid = ex.loan_repay("loan-1", 10, idempotency_key="pay-a")
    before = snapshot(ex)
    replay = ex.loan_repay("loan-1", 10, idempotency_key="pay-a")
    assert replay.replayed and replay.amount == paid.amount and snapshot(ex) == before
    assert_invariants(ex)


@pytest.mark.parametrize(("call", "message"), [
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="abc", term_hours=1), "rate"),
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="101%", term_hours=1), "100%"),
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="-1", term_hours=1), "rate"),
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="0.00000001", term_hours=1),
     "finer"),
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="1%", term_hours="3w"), "term"),
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="1%", term_hours=0), "term"),
    (lambda ex: ex.loan_offer("builder", 10, rate_per_day="1%", term_hours=1,
                              max_defaults=-1), "max defaults"),
    (lambda ex: ex.loan_offer("builder", "-10", rate_per_day="1%", term_hours=1), "positive"),
    (lambda ex: ex.loan_offer("nobody", 10, rate_per_day="1%", term_hours=1), "unknown"),
    (lambda ex: ex.loan_take("offer-0", "claude"), "offer-1"),
    (lambda ex: ex.loan_take("offer-7", "claude"), "unknown offer"),
    (lambda ex: ex.loan_repay("loan-1"), "unknown loan"),
    (lambda ex: ex.loan_show("pool-1"), "loan-1"),
    (lambda ex: ex.credit("nobody"), "unknown agent"),
])
def test_bad_input_is_invalid_input_and_changes_nothing(exchange: Exchange, call, message):
    """Malformed rates, terms, amounts, ids and names are InvalidInput with one line saying
    which, and change nothing."""
    before = snapshot(exchange)
    with pytest.raises(InvalidInput, match=message):
        call(exchange)
    assert snapshot(exchange) == before


def test_rates_and_terms_parse_as_the_cli_writes_them():
    """'1%', '0.01' and Decimal('0.01') are 10,000 parts per million a day; '48h', '48' and
    '2d' are 48 hours; interest rounds up in the lender's favour."""
    assert {loan_rules.parse_rate(r) for r in ("1%", "0.01", D("0.01"), " 1 %")} == {10_000}
    assert loan_rules.parse_rate("0.25%") == 2_500 and loan_rules.parse_rate(0) == 0
    assert {loan_rules.parse_term(t) for t in ("48h", "48", 48, "2d", "2D")} == {48}
    day = 86_400_000_000
    assert loan_rules.interest(1_000_000, 10_000, day) == 10_000
    assert loan_rules.interest(1_000_000, 10_000, 1) == 1  # 1.16e-7 rounds up
    assert loan_rules.split_payment(5, 3, 10) == (3, 2)
    assert loan_rules.collectable(100, 550, 500) == 50
    assert loan_rules.collectable(100, 400, 500) == 0


def test_loans_and_offers_list_by_agent(exchange: Exchange):
    """``loans(agent)`` lists the loans it lent or borrowed; ``loan_offers(agent)`` that
    lender's offers."""
    ex = exchange
    ex.loan_offer("builder", 10, rate_per_day="1%", term_hours=1)
    ex.loan_offer("lambda", 20, rate_per_day="1%", term_hours=1)
    ex.loan_take("offer-1", "claude")
    ex.loan_take("offer-2", "builder")
    assert [x.id for x in ex.loans()] == ["loan-1", "loan-2"]
    assert [x.id for x in ex.loans("builder")] == ["loan-1", "loan-2"]
    assert [x.id for x in ex.loans("claude")] == ["loan-1"]
    assert ex.loans("zero") == []
    assert [o.id for o in ex.loan_offers("lambda")] == ["offer-2"]


def test_doctor_finds_an_escrow_that_disagrees_with_its_offer(exchange: Exchange):
    """An offer marked taken while its escrow still holds the amount is a doctor error."""
    exchange.loan_offer("builder", 100, rate_per_day="1%", term_hours=1)
    assert exchange.doctor().healthy
    tamper_with_offer_status(exchange, "offer-1", "cancelled")
    report = exchange.doctor()
    assert not report.healthy
    assert any(f.check == "loans" and "escrow:offer-1 holds 100.00" in f.message
               for f in report.errors)


def test_both_exchanges_offer_the_loan_methods_with_one_signature():
    """``Exchange`` and ``ExchangeClient`` have every ``LoanAPI`` method with the very
    signature the protocol declares."""
    names = [n for n in vars(LoanAPI) if not n.startswith("_")]
    assert len(names) == 9
    for name in names:
        declared = inspect.signature(getattr(LoanAPI, name))
        for implementation in (Exchange, ExchangeClient):
            actual = inspect.signature(getattr(implementation, name))
            assert str(actual) == str(declared), f"{implementation.__name__}.{name}"


def test_settle_finds_due_loans_through_the_due_time_index(tmp_path):
    """Settle's query for what fell due (the statement it really runs, traced) is a range
    on the ``loans_due`` index (status, due time), not a scan of every loan: cheap when
    nothing is due, and it writes nothing then."""
    clock = SimulatedClock()
    init_exchange(tmp_path, clock=clock)
    with open_exchange(tmp_path, clock=clock) as ex:
        ex.loan_offer("builder", 10, rate_per_day="1%", term_hours=1)
        ex.loan_take("offer-1", "claude")
        connection = sqlite_connection(ex)
        statements: list[str] = []
        connection.set_trace_callback(statements.append)
        before = snapshot(ex)
        try:
            assert ex.lending.settle_due() == []
        finally:
            connection.set_trace_callback(None)
        assert snapshot(ex) == before
        [query] = [q for q in statements if "FROM loans" in q]
        assert not any(q.lstrip().upper().startswith(("INSERT", "UPDATE")) for q in statements)
        plan = connection.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
        assert any("USING INDEX loans_due (status=? AND due_at<?)" in row[-1] for row in plan)
