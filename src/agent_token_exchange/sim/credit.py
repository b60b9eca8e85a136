"""The credit market in a simulated day (``simulate --scenario credit``): lenders post
offers, a borrower takes one when it runs low and repays when it has earned enough (or
``settle`` collects at the due time), buyers open futures on beads issues that sellers
deliver by closing the issue, or miss, and one governance vote changes a limit mid-day.

Every move goes through the exchange (``loan_*``, ``future_*``, ``stake``, ``propose``,
``vote``, ``settle``), so the market obeys the same rules, reserve and ledger as a real
team's. What happens is tallied here for the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..clock import MICROS_PER_SECOND, iso_utc
from ..economy.settle_records import SettleReport
from ..errors import Refused
from ..money import format_amount, micro

Amount = Annotated[Decimal, Field(gt=0)]
Schedule = Callable[..., None]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfferPlan(_Strict):
    """A lender posts an offer at ``hour``."""

    lender: str
    amount: Amount
    rate_per_day: Annotated[Decimal, Field(ge=0, le=10)]
    term_hours: Annotated[int, Field(ge=1, le=24 * 366)]
    hour: int = Field(default=0, ge=0)


class BorrowingPlan(_Strict):
    """``borrower`` takes the first open offer when its tokens fall below ``below``, and
    repays everything it owes once they rise above ``repay_above``."""

    borrower: str
    below: Amount
    repay_above: Amount


class FuturePlan(_Strict):
    """At ``hour`` the buyer opens a future on a beads issue; the seller (if any) accepts
    a minute later and closes the issue at ``deliver_hour`` (or never: the future fails)."""

    buyer: str
    seller: str | None = None
    issue: str
    hour: int = Field(ge=0)
    price: Amount
    collateral: Amount
    deadline_hours: Annotated[int, Field(ge=1, le=24 * 366)]
    deliver_hour: int | None = Field(default=None, ge=0)


class VotePlan(_Strict):
    """Stakes at hour 0, a proposal at ``hour``, the votes a minute apart after it."""

    stakes: dict[str, Amount]
    hour: int = Field(ge=0)
    proposer: str
    parameter: str
    value: str
    reason: str = "the simulated team votes"
    votes: dict[str, Literal["yes", "no", "abstain"]] = {}


class CreditPlan(_Strict):
    offers: list[OfferPlan] = []
    borrowing: list[BorrowingPlan] = []
    futures: list[FuturePlan] = []
    vote: VotePlan | None = None

    def agents(self) -> set[str]:
        """Every scenario agent the plan names (checked against the scenario's)."""
        names = {o.lender for o in self.offers} | {b.borrower for b in self.borrowing}
        for f in self.futures:
            names |= {f.buyer, *([f.seller] if f.seller else [])}
        if self.vote:
            names |= {self.vote.proposer, *self.vote.stakes, *self.vote.votes}
        return names


class CreditActivity:
    """The credit market's part of one run: schedules its actions, runs them through the
    exchange, and counts what happened. ``names`` maps scenario agents to this team's."""

    def __init__(self, plan: CreditPlan, exchange: Any, names: dict[str, str],
                 refused: Callable[[str, Refused], None]) -> None:
        self.plan, self.ex, self.names, self._refused = plan, exchange, names, refused
        self.open_offers: list[str] = []
        self.loans: dict[str, str] = {}  # borrower -> its open loan
        self.counts: Counter[str] = Counter()
        self.amounts: Counter[str] = Counter()  # micro-tokens by flow
        self.vote: dict[str, Any] = {}
        self.future_ids: dict[int, str] = {}  # the plan's futures by number, once opened

    # -- scheduling ----------------------------------------------------------------------

    def schedule(self, hour: int, hour_start: int, at: Schedule) -> None:
        """Queue this hour's market actions with ``at(when, method, *args)``."""
        minute = 60 * MICROS_PER_SECOND
        for offer in self.plan.offers:
            if offer.hour == hour:
                at(hour_start + minute, "offer", offer)
        for number, future in enumerate(self.plan.futures):
            if future.hour == hour:
                at(hour_start + 2 * minute, "open_future", number)
            if future.deliver_hour == hour:
                at(hour_start + 30 * minute, "deliver", number)
        vote = self.plan.vote
        if vote is not None:
            if hour == 0:
                for k, (agent, amount) in enumerate(vote.stakes.items()):
                    at(hour_start + (3 + k) * minute, "stake", agent, amount)
            if vote.hour == hour:
                at(hour_start + 10 * minute, "propose")

    # -- actions -------------------------------------------------------------------------

    def offer(self, plan: OfferPlan) -> None:
        lender = self.names[plan.lender]
        try:
            made = self.ex.loan_offer(lender, plan.amount, rate_per_day=plan.rate_per_day,
                                      term_hours=plan.term_hours)
        except Refused as exc:
            self._refused(lender, exc)
            return
        self.open_offers.append(made.id)
        self.counts["offers posted"] += 1
        self.amounts["offered"] += micro(plan.amount)

    def after_move(self, agent: str) -> None:
        """After ``agent``'s tokens moved: borrow when low, repay when flush."""
        for want in self.plan.borrowing:
            if self.names.get(want.borrower) != agent:
                continue
            tokens = self.ex.balance(agent).tokens
            loan = self.loans.get(agent)
            if loan is None and tokens < want.below and self.open_offers:
                self._take(agent, self.open_offers.pop(0))
            elif loan is not None and tokens > want.repay_above:
                self._repay(agent, loan)

    def _take(self, borrower: str, offer_id: str) -> None:
        try:
            loan = self.ex.loan_take(offer_id, borrower)
        except Refused as exc:
            self._refused(borrower, exc)
            return
        self.loans[borrower] = loan.id
        self.counts["loans taken"] += 1
        self.amounts["borrowed"] += micro(loan.principal)

    def _repay(self, borrower: str, loan_id: str) -> None:
        try:
            paid = self.ex.loan_repay(loan_id)
        except Refused as exc:
            self._refused(borrower, exc)
            return
        self.counts["repaid early"] += 1
        self.amounts["repaid"] += micro(paid.amount)
        del self.loans[borrower]

    def open_future(self, number: int) -> None:
        plan = self.plan.futures[number]
        buyer = self.names[plan.buyer]
        seller = self.names[plan.seller] if plan.seller else None
        try:
            future = self.ex.future_open(buyer, f"bd:{plan.issue}", price=plan.price,
                                         collateral=plan.collateral,
                                         deadline_hours=plan.deadline_hours, seller=seller)
            self.future_ids[number] = future.id
            self.counts["futures opened"] += 1
            if seller is not None:
                self.ex.future_accept(future.id, seller)
                self.counts["futures accepted"] += 1
                self.amounts["paid upfront"] += micro(plan.price)
        except Refused as exc:
            self._refused(buyer, exc)

    def deliver(self, number: int) -> None:
        """The seller closes the issue the future names: the beads path pays it, and the
        exchange delivers the future in the same transaction."""
        plan = self.plan.futures[number]
        future_id = self.future_ids.get(number)
        if plan.seller is None or future_id is None:
            return
        self.ex.pay_issue(plan.issue, self.names[plan.seller], priority=1,
                          issue_type="feature", title=f"{plan.issue} (sold forward)")
        status = self.ex.future_show(future_id).status
        self.counts[f"future {status}"] += 1

    def stake(self, agent: str, amount: Decimal) -> None:
        try:
            self.ex.stake(self.names[agent], amount)
        except Refused as exc:
            self._refused(self.names[agent], exc)
            return
        self.amounts["staked"] += micro(amount)

    def propose(self) -> None:
        vote = self.plan.vote
        assert vote is not None
        proposer = self.names[vote.proposer]
        try:
            proposal = self.ex.propose(proposer, vote.parameter, vote.value,
                                       reason=vote.reason)
        except Refused as exc:
            self._refused(proposer, exc)
            return
        self.vote = {"id": proposal.id, "parameter": vote.parameter, "value": vote.value,
                     "proposer": proposer, "votes": {}, "outcome": "open"}
        for agent, choice in vote.votes.items():
            self.ex.vote(self.names[agent], proposal.id, choice)
            self.vote["votes"][self.names[agent]] = choice

    # -- settle --------------------------------------------------------------------------

    def settled(self, report: SettleReport) -> None:
        """Count what ``settle`` did this step."""
        for item in report.items:
            if item.area == "proposal" and self.vote.get("id") == item.id:
                self.vote["outcome"] = item.outcome
                self.vote.setdefault("events", []).append(
                    {"time": iso_utc(report.at), "outcome": item.outcome,
                     "detail": item.detail})
                continue
            self.counts[f"{item.area} {item.outcome}"] += 1
            self.amounts[f"{item.area} {item.outcome}"] += micro(item.amount)
            if item.area == "loan":
                for borrower, loan in list(self.loans.items()):
                    if loan == item.id and item.outcome != "defaulted":
                        del self.loans[borrower]

    def figures(self) -> dict[str, Any]:
        """The market's day for the report: counts, flows (decimal strings) and the vote."""
        return {"counts": dict(sorted(self.counts.items())),
                "flows": {k: format_amount(v) for k, v in sorted(self.amounts.items())},
                "vote": dict(self.vote)}
