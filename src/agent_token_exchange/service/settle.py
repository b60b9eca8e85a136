"""``settle``: apply everything that has fallen due, in order, and say what was done.

Each part of the economy that has something to settle offers a *step*: a function
``(core) -> list[SettledItem]`` that finds what is due and applies it, one operation
each through ``Core.operate`` (so several processes settling one database at once stay
exact: the operation re-reads its row under its locks and does nothing if another got
there first, and then reports nothing for it). A step must be

- idempotent: what one run applied, the next finds applied and leaves out of its items;
- cheap when nothing is due: an indexed read, no write (the server runs settle every
  minute, the simulation every step).

``STEPS`` is the ordered tuple of them. A new part adds its step with ONE line in it
(beside the import of its function), in the order the issue lists them: loans, futures,
unbonding, proposals, then stale reservations:

    from .loans import settle_loans          # the part's module, imported here
    ...
    STEPS: tuple[SettleStep, ...] = (
        settle_loans,                        # the one line
        close_stale_reservations,
    )

Each step runs after the ones before it have committed, so a later step sees what an
earlier one did (a loan collected before a proposal changes the limits, say).

A step that raises does not stop the ones after it (one broken part must not keep stale
holds open forever); once all have run, the first error is raised again.

    report = run_settle(core)
    for item in report.items:
        print(item.area, item.id, item.outcome, item.amount, item.detail)
"""

from __future__ import annotations

from collections.abc import Callable

from ..economy.settle_records import SettledItem, SettleReport
from ..money import format_tokens
from .futures import settle_futures
from .governance import settle_proposals
from .loans import settle_loans
from .operations import Core
from .staking import settle_unbondings

SettleStep = Callable[[Core], list[SettledItem]]


def close_stale_reservations(core: Core) -> list[SettledItem]:
    """Gateway reservations left open past ``[gateway] stale_reservation_minutes`` (a
    crash between the provider's answer and the capture), closed at the reserved amount:
    the provider may have served them."""
    from .metering import Metering

    items = []
    for closed in Metering(core).close_stale_reservations():
        payer = f"pool {closed.pool_id} for {closed.agent}" if closed.pool_id else closed.agent
        reserved = format_tokens(closed.reserved)
        charged = (f"the reserved {reserved}" if closed.charged == closed.reserved else
                   f"{format_tokens(closed.charged)} of the reserved {reserved} "
                   "(all it had)")
        items.append(SettledItem(
            area="reservation", id=f"r{closed.reservation_id}", outcome=closed.outcome,
            amount=closed.charged,
            detail=f"{closed.model} request by {payer} left open past "
                   f"{core.config.gateway.stale_reservation_minutes} minutes: charged "
                   f"{charged}; the provider may have served it"))
    return items


STEPS: tuple[SettleStep, ...] = (
    settle_loans,
    settle_futures,
    settle_unbondings,
    settle_proposals,
    close_stale_reservations,
)


def run_settle(core: Core, steps: tuple[SettleStep, ...] | None = None) -> SettleReport:
    """Run every step (``STEPS`` unless given) in order and gather what each settled."""
    at = core.clock.now_us()
    steps = STEPS if steps is None else steps
    items: list[SettledItem] = []
    failure: Exception | None = None
    for step in steps:
        try:
            items.extend(step(core))
        except Exception as exc:  # the next steps still run; the first error is raised
            failure = failure or exc
    if failure is not None:
        raise failure
    return SettleReport(at, tuple(items))


__all__ = ["STEPS", "SettleStep", "close_stale_reservations", "run_settle"]
