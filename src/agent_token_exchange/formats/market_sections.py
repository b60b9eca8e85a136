"""The credit market's sections of an export (format 4): loan offers, loans and futures,
then stakes, unbondings, proposals (with their stake snapshots), votes and parameter
changes, each field written as ``export.py``'s other sections write theirs (exact amounts,
UTC times, ids and numbers as they are), so an imported exchange numbers on after them.
A proposal's value and quorum are ``decimal``: the number's text exactly as the ledger
keeps it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import InvalidInput
from ..ledger.dump import (
    ChangeRow,
    FutureRow,
    LoanRow,
    OfferRow,
    ProposalRow,
    ProposalStakeRow,
    StakeRow,
    UnbondingRow,
    VoteRow,
)

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
    "stakes": (StakeRow, {"agent": "text", "staked": "money"}),
    "unbondings": (UnbondingRow, {
        "id": "int", "agent": "text", "amount": "money", "started_at": "time",
        "release_at": "time", "released_at": "opttime", "unstake_seq": "optint",
        "release_seq": "optint"}),
    "proposals": (ProposalRow, {
        "id": "text", "number": "int", "proposer": "text", "parameter": "text",
        "value": "decimal", "reason": "text", "created_at": "time", "voting_ends_at": "time",
        "timelock_us": "int", "quorum": "decimal", "total_stake": "money", "status": "text",
        "closed_at": "opttime", "enacted_at": "opttime"}),
    "proposal_stakes": (ProposalStakeRow, {"proposal_id": "text", "agent": "text",
                                           "stake": "money"}),
    "votes": (VoteRow, {"proposal_id": "text", "agent": "text", "choice": "text",
                        "power": "money", "at": "time"}),
    "parameter_changes": (ChangeRow, {"id": "int", "parameter": "text", "value": "decimal",
                                      "proposal_id": "text", "applied_at": "time"}),
}
# The CSV record name of each.
MARKET_RECORD_NAMES = {"loan_offers": "loan_offer", "loans": "loan", "futures": "future",
                       "stakes": "stake", "unbondings": "unbonding", "proposals": "proposal",
                       "proposal_stakes": "proposal_stake", "votes": "vote",
                       "parameter_changes": "parameter_change"}
# The format version they first appeared in.
MARKET_SINCE = 4

_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?(E[+-]?[0-9]+)?$")


def decimal_value(value: Any, what: str) -> Decimal:
    """A ``decimal`` field: a finite number's text (as ``str(Decimal)`` writes it)."""
    if not isinstance(value, str) or len(value) > 40 or not _DECIMAL.match(value):
        raise InvalidInput(f"{what} must be a number like 0.2 or 600, got {str(value)[:40]!r}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"{what} is not a number: {value[:40]!r}") from None


__all__ = ["MARKET_RECORD_NAMES", "MARKET_SECTIONS", "MARKET_SINCE", "decimal_value"]
