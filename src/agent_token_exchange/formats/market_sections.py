"""The credit market's sections of an export (format 4): loan offers, loans and futures,
each field written as ``export.py``'s other sections write theirs (exact amounts, UTC
times, ids and numbers as they are), so an imported exchange numbers on after them.
"""

from __future__ import annotations

from ..ledger.dump import FutureRow, LoanRow, OfferRow

MARKET_SECTIONS: dict[str, tuple[type, dict[str, str]]] = {
    "loan_offers": (OfferRow, {
        "id": "text", "number": "int", "lender": "text", "amount": "money",
        "rate_ppm": "int", "term_hours": "int", "max_defaults": "optint", "status": "text",
        "created_at": "time", "closed_at": "opttime", "loan_id": "opt"}),
    "loans": (LoanRow, {
        "id": "text", "number": "int", "offer_id": "text", "lender": "text",
        "borrower": "text", "principal": "money", "rate_ppm": "int", "term_hours": "int",
        "taken_at": "time", "due_at": "time", "status": "text", "outstanding": "money",
        "carried": "money", "accrued_at": "time", "interest_paid": "money",
        "principal_paid": "money", "defaulted_at": "opttime", "repaid_at": "opttime"}),
    "futures": (FutureRow, {
        "id": "text", "number": "int", "buyer": "text", "work": "text", "work_kind": "text",
        "work_target": "text", "price": "money", "collateral": "money", "deadline": "time",
        "named_seller": "opt", "seller": "opt", "status": "text", "created_at": "time",
        "accepted_at": "opttime", "closed_at": "opttime", "proof": "opt"}),
}
# The CSV record name of each.
MARKET_RECORD_NAMES = {"loan_offers": "loan_offer", "loans": "loan", "futures": "future"}
# The format version they first appeared in.
MARKET_SINCE = 4

__all__ = ["MARKET_RECORD_NAMES", "MARKET_SECTIONS", "MARKET_SINCE"]
