"""What an import checks of the credit market's records before writing anything: the
account names its escrows may have (``escrow:offer-N``, ``escrow:future-N``), and each
offer's, loan's and future's fields — ids, numbers, names, statuses, amounts and the times
a status implies — each problem one line naming the record. That escrows hold what their
records say is checked as the rows are loaded (``ledger/market_image.py``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..economy.future_rules import FUTURE_ID, LIVE, STATUSES, parse_work
from ..economy.loan_rules import LOAN_ID, MAX_DEFAULTS, MAX_RATE_PPM, MAX_TERM_HOURS, OFFER_ID
from ..economy.validation import NAME_PATTERN
from ..errors import InvalidInput

if TYPE_CHECKING:
    from ..ledger.dump import FutureRow, LedgerImage, LoanRow, OfferRow

_NAME = re.compile(NAME_PATTERN)
# The account kinds the market adds, each with the pattern of what follows its prefix.
ESCROW = re.compile(rf"^({OFFER_ID.pattern[1:-1]}|{FUTURE_ID.pattern[1:-1]})$")
MARKET_ACCOUNT_KINDS = {"escrow": ESCROW}
ACCOUNT_FORMS = "escrow:offer-N, escrow:future-N"

OFFER_STATUSES = ("open", "taken", "cancelled")
LOAN_STATUSES = ("open", "repaid", "defaulted")
_SUFFIX = "; nothing was imported"


def check_market_image(image: LedgerImage) -> None:
    """Every offer, loan and future is one the exchange could have written, or one
    InvalidInput naming the record and what is wrong."""
    for offer in image.loan_offers:
        _check_offer(offer)
    for loan in image.loans:
        _check_loan(loan)
    for future in image.futures:
        _check_future(future)


def _fail(what: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{what}: {problem}{_SUFFIX}")


def _check_id(value: str, number: int, pattern: re.Pattern[str], example: str,
              what: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise _fail(what, f"{str(value)[:40]!r} is not a valid id (like {example})")
    if int(value.rpartition("-")[2]) != number:
        raise _fail(what, f"its number {number} is not the one its id {value} gives")


def _check_name(value: str | None, what: str, field: str) -> None:
    if value is not None and not (isinstance(value, str) and _NAME.match(value)):
        raise _fail(what, f"{field} {str(value)[:40]!r} is not a valid agent name")


def _check_status(status: str, allowed: tuple[str, ...], what: str) -> None:
    if status not in allowed:
        raise _fail(what, f"status {str(status)[:20]!r} is not one of {', '.join(allowed)}")


def _check_terms(rate_ppm: int, term_hours: int, what: str) -> None:
    if rate_ppm > MAX_RATE_PPM:
        raise _fail(what, f"rate_ppm {rate_ppm} is over {MAX_RATE_PPM} (100 % a day)")
    if not 1 <= term_hours <= MAX_TERM_HOURS:
        raise _fail(what, f"term_hours {term_hours} is not 1 to {MAX_TERM_HOURS}")


def _check_offer(offer: OfferRow) -> None:
    what = f"loan offer {str(offer.id)[:40]}"
    _check_id(offer.id, offer.number, OFFER_ID, "offer-1", what)
    _check_name(offer.lender, what, "lender")
    _check_status(offer.status, OFFER_STATUSES, what)
    if offer.amount <= 0:
        raise _fail(what, "its amount must be more than 0")
    _check_terms(offer.rate_ppm, offer.term_hours, what)
    if offer.max_defaults is not None and offer.max_defaults > MAX_DEFAULTS:
        raise _fail(what, f"max_defaults is over {MAX_DEFAULTS}")
    if (offer.status == "open") != (offer.closed_at is None):
        raise _fail(what, "an open offer has no closed_at and a closed one has one")
    if offer.loan_id is not None and not LOAN_ID.match(offer.loan_id):
        raise _fail(what, f"loan_id {offer.loan_id[:40]!r} is not a valid loan id")


def _check_loan(loan: LoanRow) -> None:
    what = f"loan {str(loan.id)[:40]}"
    _check_id(loan.id, loan.number, LOAN_ID, "loan-1", what)
    if not OFFER_ID.match(loan.offer_id):
        raise _fail(what, f"offer_id {loan.offer_id[:40]!r} is not a valid offer id")
    _check_name(loan.lender, what, "lender")
    _check_name(loan.borrower, what, "borrower")
    if loan.lender == loan.borrower:
        raise _fail(what, "its lender and borrower are the same agent")
    _check_status(loan.status, LOAN_STATUSES, what)
    if loan.principal <= 0:
        raise _fail(what, "its principal must be more than 0")
    _check_terms(loan.rate_ppm, loan.term_hours, what)
    if loan.outstanding > loan.principal:
        raise _fail(what, "more is outstanding than its principal")
    if loan.due_at < loan.taken_at or loan.accrued_at < loan.taken_at:
        raise _fail(what, "it falls due (or accrued) before it was taken")
    if (loan.status == "repaid") != (loan.repaid_at is not None):
        raise _fail(what, "a repaid loan (and only one) has repaid_at")
    if loan.status == "repaid" and (loan.outstanding or loan.carried):
        raise _fail(what, "a repaid loan owes nothing")
    if loan.status == "defaulted" and loan.defaulted_at is None:
        raise _fail(what, "a defaulted loan has defaulted_at")


def _check_future(future: FutureRow) -> None:
    what = f"future {str(future.id)[:40]}"
    _check_id(future.id, future.number, FUTURE_ID, "future-1", what)
    _check_name(future.buyer, what, "buyer")
    _check_name(future.seller, what, "seller")
    _check_name(future.named_seller, what, "named_seller")
    _check_status(future.status, STATUSES, what)
    if future.price <= 0 or future.collateral <= 0:
        raise _fail(what, "its price and collateral must be more than 0")
    try:
        work = parse_work(future.work)
    except InvalidInput as exc:
        raise _fail(what, str(exc)) from None
    if (work.kind, work.target, work.text) != (future.work_kind, future.work_target,
                                               future.work):
        raise _fail(what, f"work_kind and work_target are not what work {future.work[:60]!r} "
                          "gives")
    if (future.seller is None) != (future.accepted_at is None):
        raise _fail(what, "a future with a seller (and only one) has accepted_at")
    if future.status == "open" and future.seller is not None:
        raise _fail(what, "an open future has no seller yet")
    if future.status in ("accepted", "delivered", "failed") and future.seller is None:
        raise _fail(what, f"a {future.status} future has a seller")
    if (future.status in LIVE) != (future.closed_at is None):
        raise _fail(what, "a closed future (and only one) has closed_at")


__all__ = ["ACCOUNT_FORMS", "MARKET_ACCOUNT_KINDS", "check_market_image"]
