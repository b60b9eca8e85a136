"""What an import checks of staking and governance's records before writing anything: the
account names they use (``stake:NAME``, ``unbonding:NAME``), and each stake's,
unbonding's, proposal's, vote's and parameter change's fields — names, ids and numbers,
statuses, choices, amounts, and the times a status implies — each problem one line naming
the record. That the stake and unbonding accounts hold what the records say is checked as
the rows are loaded (``ledger/governance_image.py``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..economy.governance_records import CHOICES, STATUSES
from ..economy.validation import NAME_PATTERN, text_field
from ..errors import InvalidInput
from .governance import PROPOSAL_ID

if TYPE_CHECKING:
    from ..ledger.dump import LedgerImage
    from ..ledger.governance import ProposalRow

_NAME = re.compile(NAME_PATTERN)
GOVERNANCE_ACCOUNT_KINDS = {"stake": _NAME, "unbonding": _NAME}
ACCOUNT_FORMS = "stake:NAME, unbonding:NAME"
# What a parameter name is made of (config paths: rate_limits.hourly,
# models.<model>.cost_per_1k, ...); the target config decides whether it applies.
_PARAMETER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199}$")
_SUFFIX = "; nothing was imported"


def _fail(what: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{what}: {problem}{_SUFFIX}")


def _agent(value: object, what: str, field: str = "agent") -> None:
    if not (isinstance(value, str) and _NAME.match(value)):
        raise _fail(what, f"{field} {str(value)[:40]!r} is not a valid agent name")


def check_governance_image(image: LedgerImage) -> None:
    """Every governance record is one the exchange could have written, or one
    InvalidInput naming the record and what is wrong."""
    for stake in image.stakes:
        _agent(stake.agent, "stake")
    for u in image.unbondings:
        what = f"unbonding u{u.id}"
        _agent(u.agent, what)
        if u.amount <= 0:
            raise _fail(what, "its amount must be more than 0")
        if u.release_at < u.started_at:
            raise _fail(what, "it is released before it started")
        if (u.released_at is None) != (u.release_seq is None) or u.unstake_seq is None:
            raise _fail(what, "it names the transfer that started it, and a released one "
                              "(and only one) the transfer that released it")
    for p in image.proposals:
        _check_proposal(p)
    for s in image.proposal_stakes:
        _agent(s.agent, f"{s.proposal_id}'s stake snapshot")
        if s.stake <= 0:
            raise _fail(f"{s.proposal_id}'s stake snapshot of {s.agent}",
                        "a stake must be more than 0")
    for v in image.votes:
        what = f"vote on {str(v.proposal_id)[:40]}"
        _agent(v.agent, what)
        if v.choice not in CHOICES:
            raise _fail(what, f"choice {str(v.choice)[:20]!r} is not one of "
                              f"{', '.join(CHOICES)}")
    for c in image.parameter_changes:
        if not _PARAMETER.match(c.parameter) or not c.value.is_finite():
            raise _fail(f"parameter change {c.id}", f"{c.parameter[:60]!r} = "
                                                    f"{str(c.value)[:20]} is not a parameter "
                                                    "and a number")


def _check_proposal(p: ProposalRow) -> None:
    what = f"proposal {str(p.id)[:40]}"
    if not PROPOSAL_ID.match(p.id):
        raise _fail(what, f"{p.id[:40]!r} is not a valid id (like prop-1)")
    if int(p.id.rpartition("-")[2]) != p.number:
        raise _fail(what, f"its number {p.number} is not the one its id gives")
    _agent(p.proposer, what, "proposer")
    if not _PARAMETER.match(p.parameter):
        raise _fail(what, f"parameter {p.parameter[:60]!r} is not a parameter name")
    try:
        text_field(p.reason, "reason", limit=500)
    except InvalidInput as exc:
        raise _fail(what, str(exc)) from None
    if not (p.value.is_finite() and p.quorum.is_finite() and 0 <= p.quorum <= 1):
        raise _fail(what, "its value must be a number and its quorum 0 to 1")
    if p.status not in STATUSES:
        raise _fail(what, f"status {str(p.status)[:20]!r} is not one of {', '.join(STATUSES)}")
    if p.voting_ends_at < p.created_at:
        raise _fail(what, "its vote ends before it was made")
    if (p.status == "voting") != (p.closed_at is None):
        raise _fail(what, "a closed vote (and only one) has closed_at")
    if (p.status == "enacted") != (p.enacted_at is not None):
        raise _fail(what, "an enacted proposal (and only one) has enacted_at")


__all__ = ["ACCOUNT_FORMS", "GOVERNANCE_ACCOUNT_KINDS", "check_governance_image"]
