"""Export and import carry the credit market, on both stores: an exchange with an open loan
offer, a partly repaid loan, a defaulted one, and open, accepted and delivered futures
exports and imports into an empty exchange whose doctor is clean and whose export is the
same bytes; the copy works on (the loan repaid, a future delivered, new offers, loans and
futures numbered after the old). A file whose escrow disagrees with its records, or with
a record no exchange could have written, is refused with one line and nothing imported."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agent_token_exchange import InvalidInput, open_exchange
from agent_token_exchange.formats.export import WRITERS, parse_export
from agent_token_exchange.service.lifecycle import import_exchange

from .ledger_checks import assert_invariants

HOUR = 3600
D = Decimal


def busy_market(ex, clock) -> None:
    """offer-2 open; loan-1 defaulted; loan-2 open and partly repaid; future-1 open,
    future-2 accepted, future-3 delivered."""
    ex.loan_offer("builder", 2000, rate_per_day="1%", term_hours=24)
    ex.loan_take("offer-1", "claude")
    ex.loan_offer("claude", 11000, rate_per_day=0, term_hours=24)  # open: claude keeps 1,000
    ex.loan_offer("lambda", 1000, rate_per_day="0.5%", term_hours=72, max_defaults=3)
    ex.loan_take("offer-3", "spark")
    ex.future_open("observer", "manual", price=300, collateral=100, deadline_hours=72)
    ex.future_open("lambda", "manual", price=200, collateral=50, deadline_hours=72)
    ex.future_accept("future-2", "builder")
    ex.future_open("spark", "commit:agent-token-.*", price=120, collateral=40,
                   deadline_hours=72, seller="observer")
    ex.future_accept("future-3", "observer")
    clock.advance(seconds=24 * HOUR)
    assert {(i.id, i.outcome) for i in ex.settle().items} == {("loan-1", "defaulted")}
    ex.loan_repay("loan-2", "300")
    manual = ex.future_open("spark", "manual", price=10, collateral=5, deadline_hours=24)
    ex.future_accept(manual.id, "builder")
    ex.future_confirm(manual.id)  # future-4 delivered


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_the_credit_market_round_trips_and_works_on(kind, exchange, clock, tmp_path,
                                                    make_database_url):
    """export -> import -> export gives the same bytes (into the same kind of store); the
    copy's doctor is clean with the escrows still holding; the partly repaid loan is
    repaid, the accepted future delivered, and new offers, loans and futures take the
    numbers after the imported ones."""
    busy_market(exchange, clock)
    assert_invariants(exchange)
    text = WRITERS[kind](exchange.export_image())
    image = parse_export(text)
    assert [(o.id, o.status) for o in image.loan_offers] == [
        ("offer-1", "taken"), ("offer-2", "open"), ("offer-3", "taken")]
    assert [(loan.id, loan.status) for loan in image.loans] == [
        ("loan-1", "defaulted"), ("loan-2", "open")]
    assert [(f.id, f.status) for f in image.futures] == [
        ("future-1", "open"), ("future-2", "accepted"), ("future-3", "accepted"),
        ("future-4", "delivered")]
    assert image.loan_offers == exchange.store.loans.offers()
    assert image.futures == exchange.store.futures.all()
    owed = exchange.loan_show("loan-2").owed
    import_exchange(tmp_path / "copy", image, clock=clock, database=make_database_url())
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert WRITERS[kind](copy.export_image()) == text
        assert copy.doctor().healthy
        assert_invariants(copy)
        assert copy.loan_show("loan-2").owed == owed
        assert copy.credit("claude").loans_defaulted == 1
        assert copy.loan_repay("loan-2").status == "repaid"
        assert copy.future_confirm("future-2").status == "delivered"
        assert copy.loan_offer("observer", 10, rate_per_day=0, term_hours=1).id == "offer-4"
        assert copy.loan_take("offer-4", "builder").id == "loan-3"
        assert copy.future_open("builder", "manual", price=1, collateral=1,
                                deadline_hours=1).id == "future-5"
        copy.loan_cancel("offer-2")
        clock.advance(seconds=72 * HOUR)
        settled = {(i.id, i.outcome) for i in copy.settle().items}
        assert {("future-1", "expired"), ("future-3", "failed"),
                ("future-5", "expired")} <= settled
        assert copy.doctor().healthy
        assert_invariants(copy)


def _edited(text: str, section: str, record_id: str, **changes: object) -> str:
    document = json.loads(text)
    for row in document[section]:
        if row["id"] == record_id:
            row.update(changes)
    return json.dumps(document)


def _assert_refused_then_empty(text: str, bad: str, message: str, home, clock) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        import_exchange(home, parse_export(bad), clock=clock)
    assert "\n" not in str(refused.value) and "nothing was imported" in str(refused.value)
    import_exchange(home, parse_export(text), clock=clock)  # it was left empty
    with open_exchange(home, clock=clock) as copy:
        assert copy.doctor().healthy


def test_a_file_whose_escrow_disagrees_with_its_offer_is_refused(exchange, clock,
                                                                 tmp_path):
    """An export edited to show the open offer cancelled (its escrow still holding the
    amount) is refused with one line naming the escrow, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    bad = _edited(text, "loan_offers", "offer-2", status="cancelled",
                  closed_at="2026-01-02T00:00:00.000000Z")
    _assert_refused_then_empty(text, bad, r"escrow:offer-2 holds 11000 but offer-2 is "
                               r"cancelled", tmp_path / "copy", clock)


def test_a_file_whose_future_escrow_disagrees_is_refused(exchange, clock, tmp_path):
    """A future edited to a bigger collateral than its escrow holds is refused with one
    line naming the escrow, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    bad = _edited(text, "futures", "future-2", collateral="60")
    _assert_refused_then_empty(text, bad, r"escrow:future-2 holds 50 but future-2 is "
                               r"accepted \(it should hold 60\)", tmp_path / "copy", clock)


@pytest.mark.parametrize(("section", "record_id", "changes", "message"), [
    ("loan_offers", "offer-2", {"status": "pending"}, r"loan offer offer-2: status 'pending'"),
    ("loan_offers", "offer-2", {"id": "offer-x"}, r"'offer-x' is not a valid id"),
    ("loan_offers", "offer-2", {"number": 7}, r"offer-2: its number 7 is not"),
    ("loan_offers", "offer-2", {"lender": "Bad Name"}, r"lender 'Bad Name' is not a valid"),
    ("loans", "loan-2", {"status": "repaid"}, r"loan loan-2: a repaid loan"),
    ("loans", "loan-2", {"offer_id": "offer-2"}, r"loan-2 and its offer offer-2 disagree"),
    ("loans", "loan-2", {"outstanding": "900"}, r"loan-2: 295 repaid and 900 outstanding"),
    ("futures", "future-1", {"work_kind": "bd"}, r"future future-1: work_kind"),
    ("futures", "future-2", {"seller": None}, r"future future-2: a future with a seller"),
    ("futures", "future-1", {"status": "lost"}, r"future future-1: status 'lost'"),
])
def test_a_market_record_no_exchange_could_write_is_refused(section, record_id, changes,
                                                            message, exchange, clock,
                                                            tmp_path):
    """Each bad field of an offer, loan or future is one line naming the record and the
    problem, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    bad = _edited(text, section, record_id, **changes)
    _assert_refused_then_empty(text, bad, message, tmp_path / "copy", clock)


def test_an_escrow_account_of_a_strange_name_is_refused(exchange, clock, tmp_path):
    """Escrow accounts are escrow:offer-N or escrow:future-N; any other name under that
    kind is refused with one line before anything is written."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    document = json.loads(text)
    document["accounts"].append({**document["accounts"][0], "name": "escrow:vault",
                                 "kind": "escrow"})
    _assert_refused_then_empty(text, json.dumps(document), r"'escrow:vault' .* is not a "
                               r"valid account name", tmp_path / "copy", clock)


def test_a_filtered_export_keeps_the_agents_market_records(exchange, clock):
    """--agent keeps the offers it made, the loans it lent or borrowed and the futures it
    bought, sold or was named in; --since keeps the records made at or after it."""
    busy_market(exchange, clock)
    mine = exchange.export_image(agent="spark")
    assert [o.id for o in mine.loan_offers] == []
    assert [loan.id for loan in mine.loans] == ["loan-2"]
    assert [f.id for f in mine.futures] == ["future-3", "future-4"]
    later = exchange.export_image(since=clock.now_us())
    assert ([f.id for f in later.futures], later.loans, later.loan_offers) == (
        ["future-4"], [], [])
