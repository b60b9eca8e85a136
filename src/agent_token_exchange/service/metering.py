"""Metered inference (DESIGN.md, "The gateway"): authorize, then capture.

    reserve   the request's worst case moves from the payer (an agent's wallet, or a pool)
              into its hold account, under every limit, in one transaction
    capture   the hold goes back and the provider's reported usage is charged: one
              inference transfer carrying the model and the tokens
    release   the provider failed: the hold goes back, nothing is charged
    close_stale_reservations
              a reservation left open by a crash is charged its reserved amount (the
              provider may have served it), with a description that says so

An agent's open holds count as consumed in its windows until they settle, so concurrent
requests cannot pass a window together; the windows themselves record only what was
charged, when it was charged. A pool-paid request (``pool_id``) holds on the members'
stakes pro rata, each draw within its member's limits and counted as that member's hold,
and settles each member's share exactly (service/pool_holds.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import overload

from ..clock import DAY_US, HOUR_US
from ..economy import metering, rules
from ..economy.accounts import INFERENCE, Kind, hold_account, pool_account, wallet
from ..economy.records import MeteredRequest, Quote, Reservation
from ..errors import InvalidInput
from ..ledger.reservations import ReservationRow
from ..money import tokens
from .operations import Core, raise_if_refused
from .pool_holds import PoolHolds

MAX_TOKENS_ASKED = 10_000_000
_PROVIDER_ID = re.compile(r"[^A-Za-z0-9._:@/+=-]")


@dataclass(frozen=True)
class Usage:
    """What the provider reported (or, for a client gone mid-stream, what was seen)."""

    input_tokens: int
    output_tokens: int
    provider_request_id: str | None = None
    latency_ms: int | None = None
    # Counted by the gateway from a stream cut short (the client left, the provider broke
    # off): charged, but never more than was reserved.
    partial: bool = False


class Metering:
    """Reservations, captures and releases of gateway requests, through the one write path."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._pool_holds = PoolHolds(core)

    # -- authorize ------------------------------------------------------------------------

    def reserve(self, agent: str, model: str, input_estimate: int, max_output: int,
                estimator: str, *, pool_id: str | None = None) -> Reservation:
        """Hold the worst case of one request (``input_estimate`` in, ``max_output`` out at
        the model's prices) from the agent's wallet, or from ``pool_id`` as its member."""
        core = self._core
        agent = core.agent(agent)
        price = metering.prices(core.config, model)
        _count(input_estimate, "input estimate")
        _count(max_output, "max_tokens")
        if pool_id is not None:
            pool_id = core.pool_id(pool_id)
        amount = metering.usage_cost(price, input_estimate, max_output)
        payer = wallet(agent) if pool_id is None else pool_account(pool_id)
        request = {"agent": agent, "model": model, "in": input_estimate, "out": max_output,
                   "pool": pool_id}

        def reserve(now: int) -> Reservation:
            if pool_id is None:
                self._check_agent(agent, amount, price, input_estimate, max_output, now)
            else:
                holders, draws = self._pool_holds.check(pool_id, agent, amount, now)
            number = core.store.reservations.open(
                agent=agent, payer=payer, pool_id=pool_id, model=model, amount=amount,
                input_estimate=input_estimate, max_output=max_output, estimator=estimator,
                at=now)
            if amount > 0:
                core.store.accounts.create(hold_account(payer), "hold", now)
                seq = core.store.transfers.post(
                    at=now, kind=Kind.HOLD, source=payer, destination=hold_account(payer),
                    amount=amount, model=model, pool_id=pool_id,
                    description=f"hold for gateway request r{number} ({model}: about "
                                f"{input_estimate} in, at most {max_output} out)")
                core.store.reservations.set_hold(number, seq)
                if pool_id is not None:
                    self._pool_holds.take(pool_id, seq, holders, draws)
            return Reservation(number, agent, model, pool_id, tokens(amount), input_estimate,
                               max_output, estimator, now)

        # Not flushed: the capture that follows within the request is, and flushes this
        # too. A process crash keeps the hold (settle closes it); only a power loss in
        # between could lose it, with the request it paid for.
        accounts = ([payer, hold_account(payer)] if pool_id is None
                    else self._pool_holds.stakeholders(pool_id))
        return core.operate("gateway", request, None, reserve, Reservation, agent=agent,
                            pool_id=pool_id, amount=amount, accounts=accounts,
                            flushed=False)

    def _check_agent(self, agent: str, amount: int, price: metering.Prices,
                     input_estimate: int, max_output: int, now: int) -> None:
        core = self._core
        last_at, _ = core.store.windows.latest(agent)
        hourly, daily = core.window_usage(agent, max(now, last_at))
        raise_if_refused(metering.check_reservation(
            core.config, agent, amount=amount, balance=core.tokens(agent),
            hourly_used=hourly, daily_used=daily, held=core.held(agent), price=price,
            input_tokens=input_estimate, max_output=max_output))

    # -- capture ----------------------------------------------------------------------------

    def capture(self, reservation: Reservation | int, usage: Usage) -> MeteredRequest:
        """Settle a reservation to the provider's reported usage and release the rest; a
        charge beyond the reservation (an overrun) is charged too, and recorded."""
        _count(usage.input_tokens, "input tokens")
        _count(usage.output_tokens, "output tokens")
        return self._close(self._find(reservation), "captured", usage)

    def release(self, reservation: Reservation | int, *,
                latency_ms: int | None = None) -> MeteredRequest:
        """The provider failed or timed out: the whole hold goes back, nothing is charged."""
        return self._close(self._find(reservation), "released", Usage(0, 0, None, latency_ms))

    def _find(self, reservation: Reservation | int) -> tuple[int, str, str | None]:
        """(id, agent, pool id) of a reservation: from its record, or read by its id."""
        if isinstance(reservation, Reservation):
            return reservation.id, reservation.agent, reservation.pool_id
        if isinstance(reservation, bool) or not isinstance(reservation, int):
            raise InvalidInput(f"a reservation id is a whole number, got {reservation!r}")
        with self._core.store.snapshot():
            row = self._core.store.reservations.get(reservation)
        if row is None:
            raise InvalidInput(f"no gateway reservation r{reservation}")
        return row.id, row.agent, row.pool_id

    def close_stale_reservations(self, now: int | None = None) -> list[MeteredRequest]:
        """Close every reservation open longer than ``[gateway] stale_reservation_minutes``
        (``metering.stale_after_us``) at its reserved amount (the provider may have served
        it), each with a description that says so. Returns the ones this call closed: one
        another process (or a late capture) closed first is left out, so two ``settle``
        runs at once report each reservation once. Idempotent, and one indexed read when
        nothing is due. ``settle`` calls it."""
        core = self._core
        at = core.clock.now_us() if now is None else now
        with core.store.snapshot():
            stale = core.store.reservations.open_before(
                at - metering.stale_after_us(core.config))
        closed = [self._close((row.id, row.agent, row.pool_id), "expired", None,
                              only_if_open=True) for row in stale]
        return [request for request in closed if request is not None]

    @overload
    def _close(self, which: tuple[int, str, str | None], outcome: str,
               usage: Usage | None) -> MeteredRequest: ...

    @overload
    def _close(self, which: tuple[int, str, str | None], outcome: str,
               usage: Usage | None, *, only_if_open: bool) -> MeteredRequest | None: ...

    def _close(self, which: tuple[int, str, str | None], outcome: str,
               usage: Usage | None, *, only_if_open: bool = False) -> MeteredRequest | None:
        """Close a reservation in one operation; one found closed already is returned as
        it closed (a retry, or settle got there), or None with ``only_if_open``."""
        core = self._core
        store = core.store
        reservation_id, agent, pool_id = which
        payer = wallet(agent) if pool_id is None else pool_account(pool_id)

        def close(now: int) -> MeteredRequest | None:
            row = store.reservations.get(reservation_id)
            assert row is not None and row.payer == payer
            if row.closed_at is not None:  # settled already (a retry, or settle got there)
                return None if only_if_open else _metered(row)
            price = metering.prices(core.config, row.model)
            if outcome == "captured":
                assert usage is not None
                cost = metering.usage_cost(price, usage.input_tokens, usage.output_tokens)
                if usage.partial:
                    cost = min(cost, row.amount)
            else:
                cost = row.amount if outcome == "expired" else 0
            if row.amount > 0:
                store.transfers.post(
                    at=now, kind=Kind.RELEASE, source=hold_account(row.payer),
                    destination=row.payer, amount=row.amount, model=row.model,
                    pool_id=row.pool_id, description=f"release of gateway request r{row.id}")
            charged = min(cost, core.balance(row.payer))  # an overrun never goes below zero
            if row.pool_id is not None:  # every draw settles, even when nothing is charged
                what, count = self._described(row, usage)
                seq = self._pool_holds.settle(row, charged, what, count, now)
            else:
                seq = self._charge(row, charged, usage, now) if charged > 0 else None
            settled = metering.settle(row.amount, cost)
            store.reservations.close(
                row.id, at=now, outcome=outcome, charge_seq=seq,
                input_tokens=usage.input_tokens if usage else None,
                output_tokens=usage.output_tokens if usage else None, charged=charged,
                overrun=settled.overrun, provider_request_id=_provider_id(usage),
                latency_ms=usage.latency_ms if usage else None)
            closed = store.reservations.get(row.id)
            assert closed is not None
            return _metered(closed)

        accounts = ([payer, hold_account(payer)] if pool_id is None
                    else self._pool_holds.settling(reservation_id))
        return core.operate(f"gateway_{outcome}", {"reservation": reservation_id}, None, close,
                            MeteredRequest, agent=agent, pool_id=pool_id, accounts=accounts)

    def _described(self, row: ReservationRow, usage: Usage | None) -> tuple[str, int]:
        """The charge's description and its inference token count."""
        if usage is None:
            minutes = metering.stale_after_us(self._core.config) // 60_000_000
            what = (f"{row.model} via gateway: request r{row.id} left open past "
                    f"{minutes} minutes, charged the reserved amount (the provider may "
                    "have served it)")
            return what, row.input_estimate + row.max_output
        what = (f"{row.model} via gateway: {usage.input_tokens} in + "
                f"{usage.output_tokens} out tokens (r{row.id}")
        request_id = _provider_id(usage)
        what += (f", {request_id}" if request_id else "") + ")"
        return what, usage.input_tokens + usage.output_tokens

    def _charge(self, row: ReservationRow, amount: int, usage: Usage | None,
                now: int) -> int:
        """The one transfer that records an agent-paid request: agent -> inference,
        recorded in its windows (a pool-paid one: service/pool_holds.py)."""
        store = self._core.store
        what, count = self._described(row, usage)
        last_at, cumulative = store.windows.latest(row.agent)
        at = max(now, last_at)  # windows need time to move forward per agent
        seq = store.transfers.post(at=at, kind=Kind.INFERENCE, source=row.payer,
                                   destination=INFERENCE, amount=amount, model=row.model,
                                   inference_tokens=count, description=what)
        store.windows.record(row.agent, at, amount, cumulative + amount, seq)
        return seq

    # -- reads ----------------------------------------------------------------------------

    def retry_after(self, agent: str, code: str, needed: int) -> int:
        """Seconds until a refused request of ``needed`` would fit its window again, as far
        as charges already made age out of it (open reservations settle when they settle)."""
        core = self._core
        window = {"hourly_limit": HOUR_US, "daily_limit": DAY_US}.get(code)
        if window is None:
            return 0  # waiting does not help: a smaller request does
        now = core.clock.now_us()
        limits = core.config.limits_for(agent)
        limit = limits.hourly if window == HOUR_US else limits.daily
        with core.store.snapshot():
            rows = core.store.windows.since(agent, now - window)
            held = core.held(agent)
        used = sum(amount for _, amount in rows)
        for at, amount in rows:
            used -= amount
            if used + held + needed <= limit:
                return max(1, -(-(at + window - now) // 1_000_000))
        return 60 if held else max(1, window // 1_000_000)

    def quote(self, agent: str, model: str, input_tokens: int = 0,
              max_output_tokens: int | None = None) -> Quote:
        """What a request of ``input_tokens`` in and at most ``max_output_tokens`` out to
        ``model`` (or ``task:<type>``) would reserve now, and whether it would pass."""
        core = self._core
        agent = core.agent(agent)
        model = metering.resolve_model(core.config, agent, _text(model))
        _count(input_tokens, "input tokens")
        out = (core.config.models[model].max_output_tokens if max_output_tokens is None
               else _count(max_output_tokens, "max_tokens"))
        price = metering.prices(core.config, model)
        amount = metering.usage_cost(price, input_tokens, out)
        now = core.clock.now_us()
        with core.store.snapshot():
            hourly, daily = core.window_usage(agent, now)
            held, balance = core.held(agent), core.tokens(agent)
        limits = core.config.limits_for(agent)
        decision = metering.check_reservation(
            core.config, agent, amount=amount, balance=balance, hourly_used=hourly,
            daily_used=daily, held=held, price=price, input_tokens=input_tokens,
            max_output=out)
        headroom = rules.consumption_headroom(limits, balance=balance,
                                              hourly_used=hourly + held, daily_used=daily + held)
        fits = metering.largest_output(price, input_tokens, headroom)
        return Quote(agent, model, input_tokens, out, tokens(amount), decision.allowed,
                     decision.code, decision.message or "would pass now",
                     None if fits is None else max(fits, 0), tokens(headroom))


def _metered(row: ReservationRow) -> MeteredRequest:
    return MeteredRequest(
        row.id, row.agent, row.model, row.pool_id, row.outcome or "open", tokens(row.amount),
        tokens(row.charged or 0), tokens(row.overrun or 0), row.input_tokens,
        row.output_tokens, row.provider_request_id, row.latency_ms, row.charge_seq)


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS_ASKED:
        raise InvalidInput(f"{what} must be a whole number from 0 to {MAX_TOKENS_ASKED}, "
                           f"got {str(value)[:40]!r}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise InvalidInput(f"model must be a model name or task:<type>, got {str(value)[:40]!r}")
    return value


def _provider_id(usage: Usage | None) -> str | None:
    """The provider's request id, kept to what an id is made of (it reaches the dashboard)."""
    if usage is None or not usage.provider_request_id:
        return None
    return _PROVIDER_ID.sub("", usage.provider_request_id)[:120] or None


__all__ = ["Metering", "Usage"]
