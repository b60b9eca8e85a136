"""Kinds of transfer and how each moves an account's derived figures.

A wallet's ``earned`` counts what work paid it; its ``spent`` counts what it burnt on
inference or put into pools, less what pools refunded. So for every wallet:
tokens = start grant + earned - spent.
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


EARNING_KINDS = frozenset({Kind.COMMIT, Kind.ISSUE, Kind.AWARD})
# A hold counts as spent while it is held and its release un-counts it, so a wallet's
# tokens = grant + earned - spent holds at every moment, reservations open or not.
SPENDING_KINDS = frozenset({Kind.INFERENCE, Kind.POOL_CONTRIBUTION, Kind.POOL_SPEND,
                            Kind.HOLD})
REFUND_KINDS = frozenset({Kind.POOL_REFUND, Kind.RELEASE})


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
