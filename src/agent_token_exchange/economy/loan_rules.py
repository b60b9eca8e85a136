"""The rules of loans, as pure functions over integers (DESIGN.md, "The credit market").

Amounts are micro-tokens, times microseconds, and a rate is parts per million a day
(``rate_ppm``: 10_000 is 1 % a day). Interest is simple, on the outstanding principal, for
the exact microseconds elapsed, rounded up to the micro-token: in the lender's favour, and
each accrual rounds once (a repayment closes one accrual period and starts the next).
Unpaid interest is carried and bears no interest itself. A repayment pays interest first,
then principal; paying more than is owed is refused. At the due time settle collects what
the borrower holds above its reserve; what is left is a default.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..clock import DAY_US
from ..errors import InvalidInput
from ..money import display_amount, format_amount
from .rules import ALLOWED, SpendDecision

PPM = 1_000_000
MAX_RATE_PPM = PPM  # 100 % a day
MAX_TERM_HOURS = 365 * 24
MAX_DEFAULTS = 1_000_000
OFFER_ID = re.compile(r"^offer-[1-9][0-9]{0,17}$")
LOAN_ID = re.compile(r"^loan-[1-9][0-9]{0,17}$")
_TERM = re.compile(r"^([0-9]{1,6})\s*([hd]?)$")
_RATE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


# -- parsing what a caller typed ------------------------------------------------------------


def parse_rate(value: Decimal | str | int) -> int:
    """A daily rate as parts per million: ``Decimal("0.01")``, ``"0.01"`` or ``"1%"`` is
    10_000. At most 100 % a day and six decimal places of the fraction; 0 is an interest-free
    loan."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise InvalidInput(f"rate must be a fraction a day like 0.01 or 1%, not {value!r}")
    text = format(value, "f") if isinstance(value, Decimal) else str(value).strip()
    percent = text.endswith("%")
    number = text.removesuffix("%").strip()
    if not _RATE.match(number):
        raise InvalidInput(f"rate must be a fraction a day like 0.01 or 1%, got {text[:40]!r}")
    try:
        fraction = Decimal(number) / (100 if percent else 1)
    except InvalidOperation:
        raise InvalidInput(f"rate must be a fraction a day like 0.01 or 1%, got {text[:40]!r}")\
            from None
    scaled = fraction * PPM
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"rate {text[:40]!r} is finer than 0.0001% a day")
    ppm = int(scaled)
    if ppm > MAX_RATE_PPM:
        raise InvalidInput(f"rate {text[:40]!r} is over 100% a day")
    return ppm


def rate_fraction(rate_ppm: int) -> Decimal:
    """Parts per million a day as the public fraction (10_000 -> Decimal('0.010000'))."""
    return Decimal(rate_ppm).scaleb(-6)


def parse_term(value: int | str) -> int:
    """A loan's term in whole hours: ``48``, ``"48h"`` or ``"2d"`` is 48; 1 hour to a
    year."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"term must be hours like 48h or days like 2d, not {value!r}")
    match = _TERM.match(str(value).strip().lower())
    if match is None:
        raise InvalidInput(f"term must be hours like 48h or days like 2d, got {str(value)[:40]!r}")
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1)
    if not 1 <= hours <= MAX_TERM_HOURS:
        raise InvalidInput(f"term must be 1 hour to {MAX_TERM_HOURS} hours (a year), "
                           f"got {hours} hours")
    return hours


def parse_max_defaults(value: int | str | None) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() \
            or int(text) > MAX_DEFAULTS:
        raise InvalidInput(f"max defaults must be a whole number 0 or more, got {text[:40]!r}")
    return int(text)


def parse_id(value: str, pattern: re.Pattern[str], example: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidInput(f"expected an id like {example}, got {str(value)[:40]!r}")
    return value


# -- interest, repayment, collection --------------------------------------------------------


def interest(principal: int, rate_ppm: int, elapsed_us: int) -> int:
    """Simple interest on ``principal`` for ``elapsed_us``, rounded up to the micro-token."""
    if elapsed_us <= 0 or principal <= 0 or rate_ppm <= 0:
        return 0
    numerator = principal * rate_ppm * elapsed_us
    return -(-numerator // (PPM * DAY_US))


def interest_due(outstanding: int, carried: int, rate_ppm: int, accrued_at: int,
                 now: int) -> int:
    """Interest owed at ``now``: what was carried unpaid at ``accrued_at`` plus what the
    outstanding principal accrued since."""
    return carried + interest(outstanding, rate_ppm, now - accrued_at)


def split_payment(amount: int, interest_owed: int, outstanding: int) -> tuple[int, int]:
    """(interest paid, principal paid) for a payment of ``amount``: interest first."""
    if amount < 0 or amount > interest_owed + outstanding:
        raise ValueError("a payment is between 0 and what is owed")
    to_interest = min(amount, interest_owed)
    return to_interest, amount - to_interest


def collectable(owed: int, balance: int, reserve: int) -> int:
    """What settle collects at the due time: what is owed, up to what the borrower holds
    above its reserve."""
    return max(0, min(owed, balance - reserve))


# -- verdicts ---------------------------------------------------------------------------------


def _not_allowed(message: str, needed: int = 0) -> SpendDecision:
    return SpendDecision("not_allowed", message, needed=needed)


def check_take(offer_id: str, borrower: str, *, lender: str, status: str,
               defaults: int, max_defaults: int | None) -> SpendDecision:
    """Whether ``borrower`` may take the offer: open, not its own, its record good enough."""
    if status != "open":
        return _not_allowed(f"{offer_id} is {status}: only an open offer can be taken")
    if borrower == lender:
        return _not_allowed(f"{borrower} cannot borrow its own offer {offer_id}")
    if max_defaults is not None and defaults > max_defaults:
        return _not_allowed(f"{offer_id} takes borrowers with at most {max_defaults} "
                            f"default(s); {borrower} has {defaults}")
    return ALLOWED


def check_cancel(offer_id: str, agent: str, *, lender: str, status: str) -> SpendDecision:
    if agent != lender:
        return _not_allowed(f"only {offer_id}'s lender ({lender}) may cancel it")
    if status != "open":
        return _not_allowed(f"{offer_id} is {status}: only an open offer can be cancelled")
    return ALLOWED


def check_repay(loan_id: str, agent: str, *, borrower: str, amount: int,
                owed: int) -> SpendDecision:
    """Only the borrower repays, and never more than it owes now (overpaying is refused)."""
    if agent != borrower:
        return _not_allowed(f"only {loan_id}'s borrower ({borrower}) repays it")
    if owed == 0:
        return _not_allowed(f"{loan_id} is repaid already")
    if amount > owed:
        return _not_allowed(f"{loan_id} owes {display_amount(owed)} now; a repayment of "
                            f"{display_amount(amount)} would overpay it", needed=amount)
    return ALLOWED


def repayment_note(loan_id: str, interest_paid: int, principal_paid: int, *,
                   collected: bool = False) -> str:
    """The transfer's description: 'loan-3 repaid: interest 1.2, principal 50'."""
    what = "collected at due time" if collected else "repaid"
    return (f"{loan_id} {what}: interest {format_amount(interest_paid)}, "
            f"principal {format_amount(principal_paid)}")
