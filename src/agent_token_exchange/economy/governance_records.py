"""The records staking and governance return (one frozen record per concept, as in
``records.py``): a stake moved, an unbonding on its way back, a proposal with its live
tally and votes, and a parameter's effective value with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import Moment

CHOICES = ("yes", "no", "abstain")
# A proposal's life: open for votes, then passed (waiting out the timelock), rejected or
# short of quorum; a passed one is enacted when its timelock ends.
STATUSES = ("voting", "passed", "rejected", "no_quorum", "enacted")


@dataclass(frozen=True)
class Unbonding:
    id: int
    agent: str
    amount: Decimal
    started_at: Moment
    release_at: Moment
    released_at: Moment | None = None


@dataclass(frozen=True)
class StakeChange:
    """What ``stake`` or ``unstake`` did: ``amount`` moved, the agent's stake, what is
    unbonding and its wallet afterwards. An unstake names its unbonding."""

    agent: str
    action: str  # "stake" or "unstake"
    amount: Decimal
    staked: Decimal
    unbonding: Decimal
    tokens: Decimal
    seq: int
    release_at: Moment | None = None
    replayed: bool = False


@dataclass(frozen=True)
class Vote:
    agent: str
    choice: str
    power: Decimal  # the voter's stake when the proposal was made
    at: Moment


@dataclass(frozen=True)
class Proposal:
    """A proposed change of one parameter, its tally so far and its votes. ``quorum`` is
    the share of ``total_stake`` (all stake at creation) that must vote; ``turnout`` is
    the share that has."""

    id: str
    proposer: str
    parameter: str
    value: Decimal
    reason: str
    status: str
    created_at: Moment
    voting_ends_at: Moment
    effective_at: Moment  # when it takes effect if it passes (voting end + timelock)
    total_stake: Decimal
    quorum: Decimal
    yes: Decimal
    no: Decimal
    abstain: Decimal
    turnout: Decimal
    votes: tuple[Vote, ...] = ()
    closed_at: Moment | None = None
    enacted_at: Moment | None = None
    replayed: bool = False


@dataclass(frozen=True)
class Parameter:
    """One parameter that may be proposed: its effective value, what config.toml says,
    and where the effective value comes from ("config", or the proposal's id)."""

    name: str
    value: Decimal
    config_value: Decimal
    source: str
    changed_at: Moment | None = None


__all__ = ["CHOICES", "STATUSES", "Parameter", "Proposal", "StakeChange", "Unbonding", "Vote"]
