"""Kinds of transfer and how each moves an account's derived figures.

A wallet's ``earned`` counts what work paid it; its ``spent`` counts what it burnt on
inference or put into pools, less what pools refunded. The credit market's transfers
(loans, futures, stakes) move neither: they are the wallet's ``market`` figure, derived
from those transfers. So for every wallet:
tokens = start grant + earned - spent + market.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    GRANT = "grant"  # start balance, minted when an agent first appears
    FUND = "fund"  # a contract's budget, minted when the contract first appears
    COMMIT = "commit"  # contract -> agent, for a git commit
    ISSUE = "issue"  # mint -> agent, for a closed issue
    AWARD = "award"  # mint -> agent, a direct award
    INFERENCE = "inference"  # agent -> system:inference
    POOL_CONTRIBUTION = "pool_contribution"  # agent -> pool
    POOL_SPEND = "pool_spend"  # pool -> system:inference
    POOL_REFUND = "pool_refund"  # pool -> agent, when a pool dissolves
    HOLD = "hold"  # agent or pool -> hold:<payer>, a gateway request's worst case
    RELEASE = "release"  # hold:<payer> -> agent or pool, when the request settles
    # The credit market (DESIGN.md): neither earned nor spent, see MARKET_KINDS.
    LOAN_ESCROW = "loan_escrow"  # lender -> escrow:offer-N, an offer posted
    LOAN_CANCEL = "loan_cancel"  # escrow:offer-N -> lender, an offer withdrawn
    LOAN_DRAW = "loan_draw"  # escrow:offer-N -> borrower, a loan taken
    LOAN_REPAY = "loan_repay"  # borrower -> lender, interest then principal
    FUTURE_ESCROW = "future_escrow"  # buyer -> escrow:future-N, the price
    FUTURE_REFUND = "future_refund"  # escrow:future-N -> buyer, cancelled or expired
    FUTURE_COLLATERAL = "future_collateral"  # seller -> escrow:future-N
    FUTURE_PAY = "future_pay"  # escrow:future-N -> seller, the price upfront
    FUTURE_RETURN = "future_return"  # escrow:future-N -> seller, collateral on delivery
    FUTURE_FORFEIT = "future_forfeit"  # escrow:future-N -> buyer, collateral on failure
    STAKE = "stake"  # agent -> stake:AGENT
    UNSTAKE = "unstake"  # stake:AGENT -> unbonding:AGENT
    UNBOND = "unbond"  # unbonding:AGENT -> agent, after the unbonding period


EARNING_KINDS = frozenset({Kind.COMMIT, Kind.ISSUE, Kind.AWARD})
# A hold counts as spent while it is held and its release un-counts it, so a wallet's
# tokens = grant + earned - spent holds at every moment, reservations open or not.
SPENDING_KINDS = frozenset({Kind.INFERENCE, Kind.POOL_CONTRIBUTION, Kind.POOL_SPEND,
                            Kind.HOLD})
REFUND_KINDS = frozenset({Kind.POOL_REFUND, Kind.RELEASE})
# Moved neither earned nor spent: a wallet's ``market`` figure is their net.
MARKET_KINDS = frozenset({
    Kind.LOAN_ESCROW, Kind.LOAN_CANCEL, Kind.LOAN_DRAW, Kind.LOAN_REPAY,
    Kind.FUTURE_ESCROW, Kind.FUTURE_REFUND, Kind.FUTURE_COLLATERAL, Kind.FUTURE_PAY,
    Kind.FUTURE_RETURN, Kind.FUTURE_FORFEIT, Kind.STAKE, Kind.UNSTAKE, Kind.UNBOND,
})


def figures_moved(kind: Kind | str, amount: int) -> tuple[int, int, int]:
    """How one transfer of ``kind`` moves the derived figures: (added to the source's
    ``spent``, added to the destination's ``earned``, added to the destination's
    ``spent``). The one place this is coded: the store, doctor's derived figures and the
    Scheme import all ask here. (A ``Kind`` is a ``str``: a kind read back as text
    compares equal to it.)"""
    return (
        amount if kind in SPENDING_KINDS else 0,
        amount if kind in EARNING_KINDS else 0,
        -amount if kind in REFUND_KINDS else 0,
    )


MINT = "system:mint"
INFERENCE = "system:inference"


def wallet(agent: str) -> str:
    return f"agent:{agent}"


def pool_account(pool_id: str) -> str:
    return f"pool:{pool_id}"


def contract_account(name: str) -> str:
    return f"contract:{name}"



def hold_account(payer: str) -> str:
    """Where a payer's open gateway reservations are held: ``hold:agent:NAME`` or
    ``hold:pool:pool-N``. Its balance is the sum of the payer's open reservations."""
    return f"hold:{payer}"


def offer_escrow(offer_id: str) -> str:
    """Where a loan offer's unlent tokens wait: ``escrow:offer-N``."""
    return f"escrow:{offer_id}"


def future_escrow(future_id: str) -> str:
    """Where a future's price, then its seller's collateral, wait: ``escrow:future-N``."""
    return f"escrow:{future_id}"


def stake_account(agent: str) -> str:
    """An agent's staked tokens (its voting power): ``stake:NAME``."""
    return f"stake:{agent}"


def unbonding_account(agent: str) -> str:
    """An agent's unstaked tokens waiting out the unbonding period: ``unbonding:NAME``."""
    return f"unbonding:{agent}"
