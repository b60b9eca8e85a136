"""Futures on work (the rules: ``economy/future_rules.py``; delivery by paid work:
``service/future_delivery.py``).

A buyer opens a future: its price moves from the buyer's wallet into the future's escrow
(an outflow: the reserve applies). A seller accepts: its collateral moves into the escrow
(the reserve applies) and the price moves out to the seller at once, the upfront payment.
From then the escrow holds the collateral until the work is delivered before the deadline
(back to the seller) or the deadline passes (to the buyer: ``settle_due``). An offer nobody
accepted refunds the buyer, when it cancels or when its deadline passes.

Every write goes through ``Core.operate`` with the future's escrow and the wallets it
touches locked, so two sellers racing to accept one future admit exactly one.
"""

from __future__ import annotations

from decimal import Decimal

from ..economy import future_rules as fr
from ..economy import rules
from ..economy.accounts import Kind, future_escrow, wallet
from ..economy.future_records import Future
from ..economy.settle_records import SettledItem
from ..errors import InvalidInput
from ..ledger.futures import FutureRow
from ..money import parse_amount, tokens
from .operations import Core, client_key, raise_if_refused


def future_view(core: Core, future_id: str) -> Future:
    """A future as it stands, with what its escrow holds now."""
    row = core.store.futures.get(future_id)
    assert row is not None
    return Future(row.id, row.buyer, row.work, tokens(row.price), tokens(row.collateral),
                  row.deadline, row.status, row.created_at,
                  tokens(core.balance(future_escrow(row.id))), row.named_seller, row.seller,
                  row.accepted_at, row.closed_at, row.proof)


class FutureOperations:
    """Open, accept, confirm, cancel, read and settle futures on work."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def future_id(self, future_id: str) -> str:
        """A known future's id, or InvalidInput."""
        if not isinstance(future_id, str) or not fr.FUTURE_ID.match(future_id):
            raise InvalidInput(f"future id must look like future-1, got {str(future_id)[:40]!r}")
        if self._core.store.futures.get(future_id) is None:
            raise InvalidInput(f"unknown future {future_id!r}; `token-exchange future list` "
                               "shows them")
        return future_id

    # -- writes ---------------------------------------------------------------------------

    def open(self, buyer: str, work: str, *, price: Decimal | str | int,
             collateral: Decimal | str | int, deadline_hours: Decimal | str | int,
             seller: str | None = None, idempotency_key: str | None = None) -> Future:
        """Escrow ``price`` from ``buyer`` for ``work`` by a deadline ``deadline_hours``
        away; ``seller``, when named, is the only agent that may accept."""
        core, store = self._core, self._core.store
        buyer = core.agent(buyer)
        parsed = fr.parse_work(work)
        price_micro = parse_amount(price, what="price")
        collateral_micro = parse_amount(collateral, what="collateral")
        hours = fr.deadline_hours(deadline_hours)
        named = core.agent(seller) if seller is not None else None
        key = client_key(idempotency_key)
        request = {"buyer": buyer, "work": parsed.text, "price": price_micro,
                   "collateral": collateral_micro, "hours": str(hours)}
        if named is not None:
            request["seller"] = named

        def open_future(now: int) -> Future:
            raise_if_refused(fr.check_open(buyer, named))
            raise_if_refused(rules.check_outflow(core.config.limits_for(buyer),
                                                 amount=price_micro,
                                                 balance=core.tokens(buyer)))
            number = store.futures.next_number()
            future_id = f"future-{number}"
            store.futures.create(FutureRow(
                future_id, number, buyer, parsed.text, parsed.kind, parsed.target,
                price_micro, collateral_micro, fr.deadline_at(now, hours), named, None,
                fr.OPEN, now, None, None, None))
            store.accounts.create(future_escrow(future_id), "escrow", now)
            store.transfers.post(
                at=now, kind=Kind.FUTURE_ESCROW, source=wallet(buyer),
                destination=future_escrow(future_id), amount=price_micro,
                description=f"price of {future_id} escrowed ({parsed.text})",
                idempotency_key=key)
            return future_view(core, future_id)

        return core.operate("future_open", request, key, open_future, Future, agent=buyer,
                            amount=price_micro, accounts=[wallet(buyer)])

    def accept(self, future_id: str, seller: str, *,
               idempotency_key: str | None = None) -> Future:
        """``seller`` posts the collateral and is paid the price at once."""
        core, store = self._core, self._core.store
        future_id = self.future_id(future_id)
        seller = core.agent(seller)
        key = client_key(idempotency_key)
        escrow = future_escrow(future_id)

        def accept_future(now: int) -> Future:
            row = store.futures.get(future_id)
            assert row is not None
            raise_if_refused(fr.check_accept(
                future_id, seller, status=row.status, buyer=row.buyer,
                named_seller=row.named_seller, deadline=row.deadline, now=now))
            raise_if_refused(rules.check_outflow(core.config.limits_for(seller),
                                                 amount=row.collateral,
                                                 balance=core.tokens(seller)))
            store.transfers.post(
                at=now, kind=Kind.FUTURE_COLLATERAL, source=wallet(seller), destination=escrow,
                amount=row.collateral, description=f"collateral for {future_id} ({row.work})",
                idempotency_key=key)
            store.transfers.post(
                at=now, kind=Kind.FUTURE_PAY, source=escrow, destination=wallet(seller),
                amount=row.price, description=f"price of {future_id} paid upfront by "
                f"{row.buyer}", idempotency_key=key)
            store.futures.accept(future_id, seller, now)
            return future_view(core, future_id)

        return core.operate("future_accept", {"future": future_id, "seller": seller}, key,
                            accept_future, Future, agent=seller,
                            accounts=[wallet(seller), escrow])

    def confirm(self, future_id: str, *, agent: str | None = None,
                idempotency_key: str | None = None) -> Future:
        """The buyer (``agent``, by default the buyer acts) confirms manual work: the
        collateral goes back to the seller."""
        core, store = self._core, self._core.store
        future_id = self.future_id(future_id)
        actor, key, request = self._buyer_request(future_id, agent, idempotency_key)

        def confirm_future(now: int) -> Future:
            row = store.futures.get(future_id)
            assert row is not None
            raise_if_refused(fr.check_confirm(
                future_id, actor, status=row.status, buyer=row.buyer,
                work=fr.Work(row.work_kind, row.work_target), deadline=row.deadline, now=now))
            assert row.seller is not None
            store.transfers.post(
                at=now, kind=Kind.FUTURE_RETURN, source=future_escrow(future_id),
                destination=wallet(row.seller), amount=row.collateral,
                description=f"collateral of {future_id} returned: confirmed by {actor}",
                idempotency_key=key)
            store.futures.close(future_id, fr.DELIVERED, now, f"confirmed by {actor}")
            return future_view(core, future_id)

        return core.operate("future_confirm", request, key, confirm_future, Future,
                            agent=actor, accounts=lambda: self._parties(future_id))

    def cancel(self, future_id: str, *, agent: str | None = None,
               idempotency_key: str | None = None) -> Future:
        """The buyer (``agent``, by default the buyer acts) withdraws a future nobody has
        accepted: the price comes back."""
        core, store = self._core, self._core.store
        future_id = self.future_id(future_id)
        actor, key, request = self._buyer_request(future_id, agent, idempotency_key)

        def cancel_future(now: int) -> Future:
            row = store.futures.get(future_id)
            assert row is not None
            raise_if_refused(fr.check_cancel(future_id, actor, status=row.status,
                                             buyer=row.buyer))
            store.transfers.post(
                at=now, kind=Kind.FUTURE_REFUND, source=future_escrow(future_id),
                destination=wallet(row.buyer), amount=row.price,
                description=f"price of {future_id} refunded: cancelled", idempotency_key=key)
            store.futures.close(future_id, fr.CANCELLED, now)
            return future_view(core, future_id)

        return core.operate("future_cancel", request, key, cancel_future, Future,
                            agent=actor, accounts=lambda: self._parties(future_id))

    def settle_due(self) -> list[SettledItem]:
        """Close every future whose deadline has passed: accepted and undelivered ->
        ``failed`` (the collateral to the buyer), never accepted -> ``expired`` (the price
        back to the buyer). Idempotent; nothing due costs one indexed query."""
        core = self._core
        settled: list[SettledItem] = []
        while True:
            due = core.store.futures.due(core.clock.now_us())
            for row in due:
                item = self._settle_one(row.id)
                if item is not None:
                    settled.append(item)
            if len(due) < 500:
                return settled

    def _settle_one(self, future_id: str) -> SettledItem | None:
        core, store = self._core, self._core.store
        done: list[SettledItem] = []

        def settle(now: int) -> Future:
            row = store.futures.get(future_id)
            assert row is not None
            outcome = fr.due_outcome(row.status, row.deadline, now)
            if outcome is None:  # settled meanwhile (another process, a delivery)
                return future_view(core, future_id)
            amount = row.collateral if outcome == fr.FAILED else row.price
            what = (f"collateral of {future_id} forfeited to {row.buyer}: {row.seller} did not "
                    f"deliver {row.work} by the deadline" if outcome == fr.FAILED else
                    f"price of {future_id} refunded: nobody accepted it by the deadline")
            store.transfers.post(
                at=now, kind=Kind.FUTURE_FORFEIT if outcome == fr.FAILED else Kind.FUTURE_REFUND,
                source=future_escrow(future_id), destination=wallet(row.buyer), amount=amount,
                description=what)
            store.futures.close(future_id, outcome, now)
            done.append(SettledItem("future", future_id, outcome, tokens(amount), what))
            return future_view(core, future_id)

        core.operate("future_settle", {"future": future_id}, None, settle, Future,
                     accounts=lambda: self._parties(future_id))
        return done[-1] if done else None

    def _buyer_request(self, future_id: str, agent: str | None, idempotency_key: str | None
                       ) -> tuple[str, str | None, dict[str, str]]:
        """For a buyer's act (confirm, cancel): who acts, the idempotency key, and the
        request an idempotency key is bound to."""
        actor = self._actor(future_id, agent)
        request = {"future": future_id} if agent is None else {"future": future_id,
                                                               "agent": actor}
        return actor, client_key(idempotency_key), request

    def _actor(self, future_id: str, agent: str | None) -> str:
        if agent is not None:
            return self._core.agent(agent)
        row = self._core.store.futures.get(future_id)
        assert row is not None
        return row.buyer  # never changes, so it may be read outside the transaction

    def _parties(self, future_id: str) -> list[str]:
        """The escrow and both parties' wallets (the parties never change once set; the
        seller is set only by an accept, which locks the escrow first)."""
        row = self._core.store.futures.get(future_id)
        assert row is not None
        names = [future_escrow(future_id), wallet(row.buyer)]
        return names + ([wallet(row.seller)] if row.seller else [])

    # -- reads ----------------------------------------------------------------------------

    def show(self, future_id: str) -> Future:
        core = self._core
        with core.store.snapshot():
            return future_view(core, self.future_id(future_id))

    def list(self, agent: str | None = None) -> list[Future]:
        """Every future, or those ``agent`` bought, sold or is offered, by number."""
        core = self._core
        who = core.agent(agent) if agent is not None else None
        with core.store.snapshot():
            rows = core.store.futures.all() if who is None else core.store.futures.involving(who)
            return [future_view(core, row.id) for row in rows]


def settle_futures(core: Core) -> list[SettledItem]:
    """``settle``'s step for futures (service/settle.py runs it)."""
    return FutureOperations(core).settle_due()
