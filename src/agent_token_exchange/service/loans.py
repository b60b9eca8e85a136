"""Loans (DESIGN.md, "The credit market"; the rules: ``economy/loan_rules.py``).

A lender's offer escrows its whole amount (``escrow:offer-N``; an outflow, so the reserve
applies). One borrower takes the whole offer: the escrow is drawn to its wallet and the
loan runs from that moment for the offer's term. Interest is simple, on the outstanding
principal; a repayment (the borrower's) pays interest first, then principal, and may not
exceed what is owed. At the due time ``settle_due`` collects what the borrower holds above
its reserve and marks the rest a default (still repayable; on its credit record).

Every write is one ``Core.operate`` with the accounts it touches locked: two takes of one
offer both lock its escrow, so exactly one finds it open.
"""

from __future__ import annotations

from decimal import Decimal

from ..clock import HOUR_US
from ..economy import loan_rules, rules
from ..economy.accounts import Kind, offer_escrow, wallet
from ..economy.loan_records import Loan, LoanOffer, LoanRepayment
from ..economy.settle_records import SettledItem
from ..ledger.loans import LoanRow
from ..money import format_amount, parse_amount, tokens
from .loan_views import LoanQueries, interest_now, loan_record, offer_record
from .operations import Core, client_key, raise_if_refused


class LoanOperations:
    """Offer, cancel, take and repay loans, and settle those that fell due."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._ids = LoanQueries(core)

    def offer(
        self, lender: str, amount: Decimal | str | int, *, rate_per_day: Decimal | str | int,
        term_hours: int | str, max_defaults: int | None = None,
        idempotency_key: str | None = None,
    ) -> LoanOffer:
        """Escrow ``amount`` from the lender's wallet as an offer anyone else may take."""
        core, store = self._core, self._core.store
        lender = core.agent(lender)
        micro = parse_amount(amount)
        rate = loan_rules.parse_rate(rate_per_day)
        term = loan_rules.parse_term(term_hours)
        cap = loan_rules.parse_max_defaults(max_defaults)
        key = client_key(idempotency_key)
        request = {"lender": lender, "amount": micro, "rate_ppm": rate, "term_hours": term,
                   "max_defaults": cap}

        def offer(now: int) -> LoanOffer:
            raise_if_refused(rules.check_outflow(
                core.config.limits_for(lender), amount=micro, balance=core.tokens(lender)))
            number = store.loans.next_offer_number()
            offer_id = f"offer-{number}"
            store.accounts.create(offer_escrow(offer_id), "escrow", now)
            store.loans.create_offer(offer_id, number, lender, micro, rate, term, cap, now)
            store.transfers.post(
                at=now, kind=Kind.LOAN_ESCROW, source=wallet(lender),
                destination=offer_escrow(offer_id), amount=micro,
                description=f"{offer_id} offered: {format_amount(micro)} at "
                            f"{_percent(rate)} a day for {term}h",
                idempotency_key=key)
            row = store.loans.offer(offer_id)
            assert row is not None
            return offer_record(row)

        return core.operate("loan_offer", request, key, offer, LoanOffer, agent=lender,
                            amount=micro, accounts=[wallet(lender)])

    def cancel(self, offer_id: str, *, agent: str | None = None,
               idempotency_key: str | None = None) -> LoanOffer:
        """Withdraw an untaken offer as ``agent`` (its lender, the default): the escrow
        returns to the lender."""
        core, store = self._core, self._core.store
        offer_id = self._ids.offer_id(offer_id)
        first = store.loans.offer(offer_id)
        assert first is not None
        actor = core.agent(agent) if agent is not None else first.lender
        key = client_key(idempotency_key)
        request = {"offer": offer_id} if agent is None else {"offer": offer_id, "agent": actor}

        def cancel(now: int) -> LoanOffer:
            row = store.loans.offer(offer_id)
            assert row is not None
            raise_if_refused(loan_rules.check_cancel(offer_id, actor, lender=row.lender,
                                                     status=row.status))
            store.loans.close_offer(offer_id, "cancelled", now)
            store.transfers.post(
                at=now, kind=Kind.LOAN_CANCEL, source=offer_escrow(offer_id),
                destination=wallet(row.lender), amount=row.amount,
                description=f"{offer_id} cancelled: escrow returned", idempotency_key=key)
            closed = store.loans.offer(offer_id)
            assert closed is not None
            return offer_record(closed)

        return core.operate("loan_cancel", request, key, cancel, LoanOffer, agent=actor,
                            accounts=[offer_escrow(offer_id), wallet(first.lender)])

    def take(self, offer_id: str, borrower: str, *,
             idempotency_key: str | None = None) -> Loan:
        """``borrower`` takes the whole offer: the escrow is drawn to its wallet."""
        core, store = self._core, self._core.store
        offer_id = self._ids.offer_id(offer_id)
        borrower = core.agent(borrower)
        key = client_key(idempotency_key)

        def take(now: int) -> Loan:
            offer = store.loans.offer(offer_id)
            assert offer is not None
            raise_if_refused(loan_rules.check_take(
                offer_id, borrower, lender=offer.lender, status=offer.status,
                defaults=store.loans.defaults_of(borrower), max_defaults=offer.max_defaults))
            number = store.loans.next_loan_number()
            loan_id = f"loan-{number}"
            if not store.loans.close_offer(offer_id, "taken", now, loan_id):
                raise AssertionError(f"{offer_id} was open under its escrow's lock")
            store.loans.create_loan(loan_id, number, offer, borrower, now,
                                    now + offer.term_hours * HOUR_US)
            store.transfers.post(
                at=now, kind=Kind.LOAN_DRAW, source=offer_escrow(offer_id),
                destination=wallet(borrower), amount=offer.amount,
                description=f"{loan_id} drawn from {offer_id} (lender {offer.lender})",
                idempotency_key=key)
            return self._record(loan_id, now)

        return core.operate("loan_take", {"offer": offer_id, "borrower": borrower}, key, take,
                            Loan, agent=borrower, accounts=[offer_escrow(offer_id),
                                                            wallet(borrower)])

    def repay(self, loan_id: str, amount: Decimal | str | int | None = None, *,
              agent: str | None = None, idempotency_key: str | None = None) -> LoanRepayment:
        """Repay ``amount`` (None: everything owed now) as ``agent`` (the borrower, the
        default): interest first, then principal. More than is owed is refused, and so is
        a repayment that would take the borrower under its reserve."""
        core, store = self._core, self._core.store
        loan_id = self._ids.loan_id(loan_id)
        first = store.loans.loan(loan_id)
        assert first is not None
        actor = core.agent(agent) if agent is not None else first.borrower
        micro = None if amount is None else parse_amount(amount)
        key = client_key(idempotency_key)
        request = {"loan": loan_id, "amount": micro, "agent": actor}

        def repay(now: int) -> LoanRepayment:
            row = store.loans.loan(loan_id)
            assert row is not None
            owed_interest = interest_now(row, now)
            owed = row.outstanding + owed_interest
            paying = owed if micro is None else micro
            raise_if_refused(loan_rules.check_repay(loan_id, actor, borrower=row.borrower,
                                                    amount=paying, owed=owed))
            raise_if_refused(rules.check_outflow(core.config.limits_for(row.borrower),
                                                 amount=paying,
                                                 balance=core.tokens(row.borrower)))
            return self._pay(row, paying, owed_interest, now, key=key)

        return core.operate("loan_repay", request, key, repay, LoanRepayment, agent=actor,
                            amount=micro, accounts=[wallet(first.borrower),
                                                    wallet(first.lender)])

    def settle_due(self) -> list[SettledItem]:
        """At each open loan's due time: collect what the borrower holds above its reserve
        (up to all it owes) for the lender; a loan left owing is ``defaulted``. One
        transaction per loan; idempotent (a settled loan is no longer open), and one
        indexed query when nothing is due."""
        core, store = self._core, self._core.store
        items: list[SettledItem] = []
        for loan_id in store.loans.due(core.clock.now_us()):
            row = store.loans.loan(loan_id)
            assert row is not None
            items += core.operate("loan_settle", {"loan": loan_id}, None,
                                  lambda now, loan_id=loan_id: self._settle_one(loan_id, now),
                                  list, agent=row.borrower,
                                  accounts=[wallet(row.borrower), wallet(row.lender)])
        return items

    # -- helpers --------------------------------------------------------------------------

    def _settle_one(self, loan_id: str, now: int) -> list[SettledItem]:
        core, store = self._core, self._core.store
        row = store.loans.loan(loan_id)
        assert row is not None
        if row.status != "open" or row.due_at > now:
            return []  # another process settled it first
        # Interest counts to the due time, when the collection falls (or to the last
        # repayment, if the borrower repaid after the due time before settle ran).
        at = max(row.due_at, row.accrued_at)
        owed_interest = interest_now(row, at)
        owed = row.outstanding + owed_interest
        reserve = core.config.limits_for(row.borrower).reserve
        paying = loan_rules.collectable(owed, core.tokens(row.borrower), reserve)
        if paying:
            self._pay(row, paying, owed_interest, at, collected=True, settled_at=now)
        if paying == owed:
            return [SettledItem("loan", loan_id, "repaid", tokens(paying),
                                f"{loan_id} collected in full at its due time: "
                                f"{row.borrower} paid {row.lender} {format_amount(paying)}")]
        store.loans.set_status(loan_id, "defaulted", now)
        left = owed - paying
        return [SettledItem("loan", loan_id, "defaulted", tokens(paying),
                            f"{loan_id} defaulted: {row.borrower} paid {format_amount(paying)} "
                            f"of {format_amount(owed)} owed to {row.lender}; "
                            f"{format_amount(left)} left owing")]

    def _pay(self, row: LoanRow, paying: int, owed_interest: int, at: int, *,
             key: str | None = None, collected: bool = False,
             settled_at: int | None = None) -> LoanRepayment:
        """Move ``paying`` from borrower to lender, interest first, and record it."""
        store = self._core.store
        to_interest, to_principal = loan_rules.split_payment(paying, owed_interest,
                                                             row.outstanding)
        when = settled_at if settled_at is not None else at
        seq = store.transfers.post(
            at=when, kind=Kind.LOAN_REPAY, source=wallet(row.borrower),
            destination=wallet(row.lender), amount=paying,
            description=loan_rules.repayment_note(row.id, to_interest, to_principal,
                                                  collected=collected),
            idempotency_key=key)
        outstanding = row.outstanding - to_principal
        carried = owed_interest - to_interest
        store.loans.record_payment(row.id, outstanding=outstanding, carried=carried, at=at,
                                   interest_paid=to_interest, principal_paid=to_principal)
        if outstanding == 0 and carried == 0:
            store.loans.set_status(row.id, "repaid", when)
        record = self._record(row.id, at)
        return LoanRepayment(row.id, row.borrower, row.lender, tokens(paying),
                             tokens(to_interest), tokens(to_principal), record.owed,
                             record.status, tokens(self._core.tokens(row.borrower)), seq)

    def _record(self, loan_id: str, now: int) -> Loan:
        row = self._core.store.loans.loan(loan_id)
        assert row is not None
        return loan_record(row, now)


def _percent(rate_ppm: int) -> str:
    """10_000 -> '1%', 15_000 -> '1.5%'."""
    return f"{(Decimal(rate_ppm) / 10_000).normalize():f}%"


def settle_loans(core: Core) -> list[SettledItem]:
    """``settle``'s step for loans (service/settle.py runs it)."""
    return LoanOperations(core).settle_due()
