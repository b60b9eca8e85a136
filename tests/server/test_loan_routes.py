"""The loan routes under /v1 and the client over them: an agent's key acts only as itself
(an offer as the lender, a take and a repayment as the borrower, a cancel as the lender),
an admin's key for anyone; a loan is read by its parties; refused callers change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent_token_exchange import NotAllowed
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.errors import Forbidden

from .conftest import Service

OFFER = {"lender": "builder", "amount": "100", "rate_per_day": "0", "term_hours": "2d"}


def test_the_client_lends_borrows_and_repays_over_http(fresh_service: Service):
    """Through ``ExchangeClient`` with the parties' own keys: offer, take, repay in part,
    read the loan, the offers and the credit record, repay the rest."""
    svc = fresh_service
    with ExchangeClient(svc.url, svc.keys["builder"]) as builder, \
            ExchangeClient(svc.url, svc.keys["claude"]) as claude:
        offer = builder.loan_offer("builder", 100, rate_per_day="0%", term_hours="2d",
                                   max_defaults=0)
        assert (offer.id, offer.status, offer.max_defaults) == ("offer-1", "open", 0)
        assert claude.loan_offers()[0].id == "offer-1"  # the market is open to every key
        assert claude.loan_offer_show("offer-1").amount == Decimal(100)
        loan = claude.loan_take("offer-1", "claude")
        assert (loan.id, loan.borrower, loan.principal) == ("loan-1", "claude", Decimal(100))
        paid = claude.loan_repay("loan-1", Decimal(40))
        assert (paid.principal, paid.owed, paid.tokens) == (
            Decimal(40), Decimal(60), Decimal(10060))
        assert builder.loan_show("loan-1").outstanding == Decimal(60)
        assert [x.id for x in claude.loans()] == ["loan-1"]
        assert builder.credit("claude").owed == Decimal(60)
        assert claude.loan_repay("loan-1").status == "repaid"
        assert claude.credit("claude").loans_repaid == 1


def test_an_agent_key_acts_only_as_itself_on_loans(fresh_service: Service):
    """Another agent's key is 403 and changes nothing: offering as another lender, taking as
    another borrower, cancelling another's offer, repaying another's loan, reading a loan
    it is no party to; the rightful keys and an admin's are served."""
    svc = fresh_service
    with svc.as_agent("builder") as builder:
        assert builder.post("/v1/loans/offers", json=OFFER).status_code == 200
        assert builder.post("/v1/loans/offers", json=OFFER).status_code == 200
    before = svc.ledger_state()
    with svc.as_agent("zero") as zero:
        assert zero.post("/v1/loans/offers", json=OFFER).status_code == 403
        taken = zero.post("/v1/loans/offers/offer-1/take", json={"borrower": "claude"})
        assert taken.status_code == 403 and "cannot act as claude" in taken.json()["error"][
            "message"]
        assert zero.post("/v1/loans/offers/offer-1/cancel").status_code == 403
    assert svc.ledger_state() == before
    with svc.as_agent("claude") as claude:
        assert claude.post("/v1/loans/offers/offer-1/take",
                           json={"borrower": "claude"}).status_code == 200
    before = svc.ledger_state()
    with svc.as_agent("zero") as zero:
        assert zero.post("/v1/loans/loan-1/repay", json={}).status_code == 403
        assert zero.get("/v1/loans/loan-1").status_code == 403
        assert zero.get("/v1/loans").json() == {"loans": []}
        assert zero.get("/v1/loans", params={"agent": "claude"}).status_code == 403
        assert zero.get("/v1/agents/claude/credit").json()["loans_taken"] == 1
    with svc.as_agent("builder") as builder:  # the lender reads its loan, cannot repay it
        assert builder.get("/v1/loans/loan-1").json()["borrower"] == "claude"
        assert builder.post("/v1/loans/loan-1/repay", json={}).status_code == 403
    assert svc.ledger_state() == before
    with svc.as_admin() as admin:
        paid = admin.post("/v1/loans/loan-1/repay", json={"amount": "10"})
        assert paid.status_code == 200 and paid.json()["principal"] == "10"
        assert admin.post("/v1/loans/offers/offer-2/take",
                          json={"borrower": "spark"}).status_code == 200
        assert admin.get("/v1/loans").json()["loans"][1]["borrower"] == "spark"


def test_loan_rules_are_402_and_unknown_ids_404(fresh_service: Service):
    """The lender taking its own offer, and cancelling a taken one, are 402 not_allowed;
    unknown or malformed offer and loan ids are 404; a bad rate is 422."""
    svc = fresh_service
    with svc.as_agent("builder") as builder:
        builder.post("/v1/loans/offers", json=OFFER)
        own = builder.post("/v1/loans/offers/offer-1/take", json={"borrower": "builder"})
        assert own.status_code == 402 and own.json()["error"]["code"] == "not_allowed"
        assert builder.post("/v1/loans/offers/offer-9/take",
                            json={"borrower": "builder"}).status_code == 404
        assert builder.post("/v1/loans/offers/nope/cancel").status_code == 404
        assert builder.get("/v1/loans/loan-1").status_code == 404
        assert builder.get("/v1/loans/offers/offer-2").status_code == 404
        bad = builder.post("/v1/loans/offers", json=OFFER | {"rate_per_day": "often"})
        assert bad.status_code == 422 and "rate" in bad.json()["error"]["message"]
    with ExchangeClient(svc.url, svc.keys["claude"]) as claude:
        claude.loan_take("offer-1", "claude")
        with pytest.raises(NotAllowed):
            claude.loan_repay("loan-1", 1000)
        with pytest.raises(Forbidden):
            claude.loan_cancel("offer-1")


def test_no_key_or_a_wrong_key_is_401_on_every_loan_route(fresh_service: Service):
    """Every loan route, read or write, answers 401 without a valid key and changes
    nothing."""
    svc = fresh_service
    with svc.as_agent("builder") as builder:
        assert builder.post("/v1/loans/offers", json=OFFER).status_code == 200
    before = svc.ledger_state()
    for key in (None, "not-a-key"):
        with svc.client(key) as http:
            for path in ("/v1/loans/offers", "/v1/loans/offers/offer-1/cancel",
                         "/v1/loans/offers/offer-1/take", "/v1/loans/loan-1/repay"):
                assert http.post(path, json={}).status_code == 401, path
            for path in ("/v1/loans", "/v1/loans/offers", "/v1/loans/offers/offer-1",
                         "/v1/loans/loan-1", "/v1/agents/claude/credit"):
                assert http.get(path).status_code == 401, path
    assert svc.ledger_state() == before
    with svc.as_agent("claude") as claude:
        strict = claude.post("/v1/loans/offers", json=OFFER | {"lender": "claude",
                                                               "max_defaults": True})
        assert strict.status_code == 422
