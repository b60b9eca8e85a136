"""The loan routes under /v1 (service/loans.py has the rules).

Writes: a key acts as its own agent: it offers and cancels as the lender, takes as the
borrower and repays as the borrower (another agent's name is 403); an admin key acts for
anyone. Reads: offers are the market, open to every key; a loan is read by its lender's
or borrower's key (or an admin's); a credit record is read by every key, since lenders
decide on it (the offer's ``max_defaults`` is enforced by the service either way)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..economy import loan_records as records
from ..economy.loan_records import Loan
from ..errors import Forbidden, InvalidInput, NotFound
from ..formats.json_codec import to_json
from ..service import access
from ..service.api_keys import Principal
from ..service.exchange import Exchange
from . import schemas as s
from .auth import Caller, ExchangeDep, run_write
from .routing import ERRORS, WRITE_ERRORS, ScopedIdempotencyKey, acting_agent, known_agent

Short = Annotated[str, Field(min_length=1, max_length=40)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoanOfferRequest(_In):
    lender: s.Name
    amount: s.AmountIn
    rate_per_day: Annotated[str, Field(min_length=1, max_length=40, examples=["0.01"],
                                       description="a fraction a day (0.01) or a percent (1%)")]
    term_hours: Annotated[StrictInt | Short, Field(
        examples=["48h"], description="hours (48, '48h') or days ('2d')")]
    max_defaults: Annotated[StrictInt | None, Field(ge=0, le=1_000_000, description=(
        "refuse borrowers with more defaults than this"))] = None


class LoanActorRequest(_In):
    agent: Annotated[str | None, Field(max_length=64, description=(
        "who acts (default: the key's agent; for an admin key the lender or borrower)"))] = None


class LoanTakeRequest(_In):
    borrower: s.Name


class LoanRepayRequest(LoanActorRequest):
    amount: Annotated[str | None, Field(min_length=1, max_length=40, description=(
        "tokens to repay (default: everything owed now)"))] = None


LoanOfferView = s.response_model(records.LoanOffer)
LoanView = s.response_model(records.Loan)
LoanRepayment = s.response_model(records.LoanRepayment)
CreditRecord = s.response_model(records.CreditRecord)
LoanList = s.envelope("LoanList", "loans", records.Loan)
LoanOfferList = s.envelope("LoanOfferList", "offers", records.LoanOffer)

Viewer = Annotated[str | None, Query(
    max_length=64, description="an admin key: read as this agent would (an agent's key "
    "always reads as itself)")]
Lender = Annotated[str | None, Query(max_length=64, description="only this lender's offers")]


def _found(call: Any) -> Any:
    """An unknown or malformed offer or loan id is 404."""
    try:
        return call()
    except NotFound:
        raise
    except InvalidInput as exc:
        raise NotFound(exc.message) from None


def _loan(ex: Exchange, loan_id: str, caller: Principal) -> Loan:
    """The loan, if the caller's key may see it (a party to it, or an admin), else 403."""
    loan: Loan = _found(lambda: ex.loan_show(loan_id))
    if not caller.admin and caller.agent not in (loan.lender, loan.borrower):
        raise Forbidden(f"a key for {caller.agent} cannot read {loan.id}: a key reads the "
                        "loans it lent or borrowed")
    return loan


def loan_router() -> APIRouter:
    api = APIRouter()

    # -- reads ------------------------------------------------------------------------

    @api.get("/loans/offers", response_model=LoanOfferList, responses=ERRORS, tags=["loans"])
    def offers(caller: Caller, ex: ExchangeDep, agent: Lender = None) -> dict[str, Any]:
        """Loan offers (open, taken, cancelled): the market every key may read; with
        ``agent``, one lender's."""
        lender = None if agent is None else known_agent(ex, agent)
        return {"offers": [to_json(o) for o in ex.loan_offers(lender)]}

    @api.get("/loans/offers/{offer_id}", response_model=LoanOfferView, responses=ERRORS,
             tags=["loans"])
    def offer_show(offer_id: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """One loan offer (the market: every key may read it)."""
        return to_json(_offer(ex, offer_id))

    @api.get("/loans", response_model=LoanList, responses=ERRORS, tags=["loans"])
    def loans(caller: Caller, ex: ExchangeDep, agent: Viewer = None) -> dict[str, Any]:
        """Loans as they stand now: an agent's key sees those it lent or borrowed."""
        viewer = access.reader(caller, None if agent is None else known_agent(ex, agent))
        return {"loans": [to_json(x) for x in ex.loans(viewer)]}

    @api.get("/loans/{loan_id}", response_model=LoanView, responses=ERRORS, tags=["loans"])
    def loan_show(loan_id: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """One loan with what is owed now (its lender's or borrower's key, or an admin's)."""
        return to_json(_loan(ex, loan_id, caller))

    @api.get("/agents/{agent}/credit", response_model=CreditRecord, responses=ERRORS,
             tags=["loans"])
    def credit(agent: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """An agent's credit record (`token-exchange credit`): loans repaid, defaulted, in
        default and owed now. Every key may read it: lenders decide on it."""
        return to_json(ex.credit(known_agent(ex, agent)))

    # -- writes -------------------------------------------------------------------------

    @api.post("/loans/offers", response_model=LoanOfferView, responses=WRITE_ERRORS,
              tags=["loans"])
    async def loan_offer(request: Request, body: LoanOfferRequest, caller: Caller,
                         ex: ExchangeDep, idempotency_key: ScopedIdempotencyKey
                         ) -> dict[str, Any]:
        """Offer a loan as the key's agent: the amount is escrowed (the reserve applies)."""

        def run() -> dict[str, Any]:
            caller.require_agent(body.lender)
            return to_json(ex.loan_offer(
                body.lender, body.amount, rate_per_day=body.rate_per_day,
                term_hours=body.term_hours, max_defaults=body.max_defaults,
                idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/loans/offers/{offer_id}/cancel", response_model=LoanOfferView,
              responses=WRITE_ERRORS, tags=["loans"])
    async def loan_cancel(request: Request, offer_id: str, caller: Caller, ex: ExchangeDep,
                          idempotency_key: ScopedIdempotencyKey,
                          body: LoanActorRequest | None = None) -> dict[str, Any]:
        """Withdraw an untaken offer (its lender's key): the escrow returns."""

        def run() -> dict[str, Any]:
            offer = _offer(ex, offer_id)
            if not caller.admin and offer.lender != caller.agent:
                raise Forbidden(f"only {offer.id}'s lender or an admin may cancel it")
            named = body.agent if body is not None else None
            return to_json(ex.loan_cancel(offer.id, agent=acting_agent(caller, ex, named),
                                          idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/loans/offers/{offer_id}/take", response_model=LoanView,
              responses=WRITE_ERRORS, tags=["loans"])
    async def loan_take(request: Request, offer_id: str, body: LoanTakeRequest,
                        caller: Caller, ex: ExchangeDep,
                        idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Take a whole offer as the key's agent (the borrower)."""

        def run() -> dict[str, Any]:
            known = _offer(ex, offer_id).id
            caller.require_agent(body.borrower)
            return to_json(ex.loan_take(known, body.borrower,
                                        idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/loans/{loan_id}/repay", response_model=LoanRepayment,
              responses=WRITE_ERRORS, tags=["loans"])
    async def loan_repay(request: Request, loan_id: str, caller: Caller, ex: ExchangeDep,
                         idempotency_key: ScopedIdempotencyKey,
                         body: LoanRepayRequest | None = None) -> dict[str, Any]:
        """Repay a loan (its borrower's key): interest first, then principal; no more than
        is owed."""

        def run() -> dict[str, Any]:
            loan = _loan(ex, loan_id, caller)
            if not caller.admin and loan.borrower != caller.agent:
                raise Forbidden(f"only {loan.id}'s borrower or an admin may repay it")
            named = body.agent if body is not None else None
            amount = body.amount if body is not None else None
            return to_json(ex.loan_repay(loan.id, amount,
                                         agent=acting_agent(caller, ex, named),
                                         idempotency_key=idempotency_key))

        return await run_write(request, run)

    return api


def _offer(ex: Exchange, offer_id: str) -> records.LoanOffer:
    """A known offer, or 404."""
    found: records.LoanOffer = _found(lambda: ex.loan_offer_show(offer_id))
    return found


__all__ = ["loan_router"]
