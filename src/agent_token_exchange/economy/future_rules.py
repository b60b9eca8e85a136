"""The futures market's rules, pure: what work a future names and what delivers it, how a
deadline is read, and which transitions each party may make. Nothing here touches the
database or the clock; the service (``service/futures.py``) asks and writes.

Work is one of:

- ``bd:<issue id>``: delivered when that issue's reward is paid to the seller;
- ``commit:<project pattern>``: delivered when a commit by the seller to a project the
  pattern fully matches (RE2, linear time, as contract patterns) is paid;
- ``manual``: delivered when the buyer confirms it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..clock import HOUR_US
from ..errors import InvalidInput
from .patterns import linear_pattern
from .rules import ALLOWED, SpendDecision

OPEN, ACCEPTED, DELIVERED = "open", "accepted", "delivered"
FAILED, EXPIRED, CANCELLED = "failed", "expired", "cancelled"
STATUSES = (OPEN, ACCEPTED, DELIVERED, FAILED, EXPIRED, CANCELLED)
LIVE = (OPEN, ACCEPTED)  # what settle may still have to close
BD, COMMIT, MANUAL = "bd", "commit", "manual"
FUTURE_ID = re.compile(r"^future-[1-9][0-9]{0,17}$")
ISSUE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
MAX_PATTERN = 200
MAX_HOURS = Decimal(24 * 366)  # a year: longer promises are not futures on work
_DURATION = re.compile(r"^(?P<n>[0-9]+(\.[0-9]+)?)\s*(?P<unit>[mhdw]?)$")
_UNIT_HOURS = {"m": Decimal(1) / 60, "h": Decimal(1), "": Decimal(1), "d": Decimal(24),
               "w": Decimal(24 * 7)}


@dataclass(frozen=True)
class Work:
    """Parsed work: its kind (bd, commit, manual) and target (issue id, pattern, '')."""

    kind: str
    target: str

    @property
    def text(self) -> str:
        return MANUAL if self.kind == MANUAL else f"{self.kind}:{self.target}"


def parse_work(text: object) -> Work:
    """The work a future names, checked; InvalidInput says what is wrong in one line."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("work must be bd:<issue id>, commit:<project pattern> or manual")
    text = text.strip()
    if text == MANUAL:
        return Work(MANUAL, "")
    kind, colon, target = text.partition(":")
    if not colon or kind not in (BD, COMMIT):
        raise InvalidInput(f"work must be bd:<issue id>, commit:<project pattern> or manual, "
                           f"got {text[:60]!r}")
    if kind == BD:
        if not ISSUE_ID.match(target):
            raise InvalidInput(f"bd work names an issue id like bd:bd-0479m, got {text[:60]!r}")
        return Work(BD, target)
    if not target or len(target) > MAX_PATTERN or any(ord(ch) < 32 for ch in target):
        raise InvalidInput(f"commit work names a project pattern of 1-{MAX_PATTERN} "
                           "characters, like commit:nexushive-.*")
    try:
        linear_pattern(target)
    except ValueError as exc:
        raise InvalidInput(f"commit work's project pattern {target[:60]!r} is {exc}") from None
    return Work(COMMIT, target)


def delivered_by_issue(work: Work, issue_id: str) -> bool:
    """Whether paying ``issue_id`` to the seller delivers this work."""
    return work.kind == BD and work.target == issue_id


def delivered_by_commit(work: Work, project: str) -> bool:
    """Whether a paid commit to ``project`` by the seller delivers this work (full match)."""
    return work.kind == COMMIT and linear_pattern(work.target).fullmatch(project) is not None


def deadline_hours(value: object) -> Decimal:
    """Hours until the deadline: a positive number of hours (24, "1.5") or a duration
    with a unit ("90m", "24h", "2d", "1w"); at most a year."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise InvalidInput("deadline must be hours (24) or a duration like 90m, 24h, 2d")
    text = str(value).strip().lower()
    match = _DURATION.match(text)
    try:
        hours = Decimal(match.group("n")) * _UNIT_HOURS[match.group("unit")] if match else None
    except InvalidOperation:
        hours = None
    if hours is None or hours <= 0:
        raise InvalidInput(f"deadline must be a positive duration like 90m, 24h or 2d, "
                           f"got {text[:40]!r}")
    if hours > MAX_HOURS:
        raise InvalidInput(f"deadline is too far away (at most {MAX_HOURS} hours), "
                           f"got {text[:40]!r}")
    return hours


def deadline_at(now: int, hours: Decimal) -> int:
    """The deadline in microseconds, ``hours`` after ``now`` (to the microsecond)."""
    return now + int(hours * HOUR_US)


def _not_allowed(message: str) -> SpendDecision:
    return SpendDecision("not_allowed", message)


def check_open(buyer: str, seller: str | None) -> SpendDecision:
    """A buyer cannot name itself as the seller."""
    if seller is not None and seller == buyer:
        return _not_allowed(f"{buyer} cannot sell work to itself")
    return ALLOWED


def check_accept(future_id: str, seller: str, *, status: str, buyer: str,
                 named_seller: str | None, deadline: int, now: int) -> SpendDecision:
    """An open future, before its deadline, accepted by anyone but its buyer (only the
    named seller, when one is named)."""
    if status != OPEN:
        return _not_allowed(f"{future_id} is {status}, not open: it cannot be accepted")
    if now >= deadline:
        return _not_allowed(f"{future_id}'s deadline has passed: it cannot be accepted")
    if seller == buyer:
        return _not_allowed(f"{seller} cannot accept its own {future_id}")
    if named_seller is not None and seller != named_seller:
        return _not_allowed(f"{future_id} is offered to {named_seller} only")
    return ALLOWED


def check_confirm(future_id: str, agent: str, *, status: str, buyer: str, work: Work,
                  deadline: int, now: int) -> SpendDecision:
    """The buyer confirms manual work of an accepted future before its deadline."""
    if agent != buyer:
        return _not_allowed(f"only {future_id}'s buyer ({buyer}) may confirm it")
    if work.kind != MANUAL:
        return _not_allowed(f"{future_id} is delivered by its work ({work.text}), "
                            "not confirmed by hand")
    if status != ACCEPTED:
        return _not_allowed(f"{future_id} is {status}: only an accepted future is confirmed")
    if now >= deadline:
        return _not_allowed(f"{future_id}'s deadline has passed: it is settled as failed")
    return ALLOWED


def check_cancel(future_id: str, agent: str, *, status: str, buyer: str) -> SpendDecision:
    """The buyer cancels a future nobody has accepted."""
    if agent != buyer:
        return _not_allowed(f"only {future_id}'s buyer ({buyer}) may cancel it")
    if status != OPEN:
        return _not_allowed(f"{future_id} is {status}: only an open future is cancelled")
    return ALLOWED


def can_deliver(status: str, deadline: int, now: int) -> bool:
    """Whether work paid at ``now`` delivers a future: accepted, deadline not reached."""
    return status == ACCEPTED and now < deadline


def due_outcome(status: str, deadline: int, now: int) -> str | None:
    """What settle does with a future at ``now``: ``failed`` (accepted, undelivered),
    ``expired`` (nobody accepted) or None (not due, or already closed)."""
    if now < deadline:
        return None
    return {ACCEPTED: FAILED, OPEN: EXPIRED}.get(status)


def escrow_held(status: str, price: int, collateral: int) -> int:
    """What a future's escrow account holds in each status (doctor checks it)."""
    return {OPEN: price, ACCEPTED: collateral}.get(status, 0)
