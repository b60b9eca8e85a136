"""What the CLI says after a write: what happened, with the balance as it is now, or, for
a replay (the same commit SHA, issue or idempotency key again), that it had happened
already and nothing changed. One function per kind of write, so every command that pays,
charges or moves pool tokens words it the same way."""

from __future__ import annotations

from ..economy.records import (
    Charge,
    Payment,
    PoolContribution,
    PoolDissolution,
    PoolLeave,
    PoolSpend,
    PoolView,
)
from .output import done, note, replayed, tokens

DEFAULT_CONTRACT = "contract:default"


def payment(paid: Payment, what: str) -> None:
    """A commit, award or issue payment; ``what`` names the work ('a commit to app')."""
    balance = f"balance {tokens(paid.tokens)}"
    if paid.replayed:
        earned = (f"{paid.agent} earned {tokens(paid.amount)} tokens for it"
                  if paid.amount else f"it earned nothing ({paid.note})")
        replayed(f"Already paid for {what}: {earned}; nothing paid again ({balance})")
    elif paid.amount == 0:
        done(f"{paid.agent} earns nothing for {what}: {paid.note} ({balance})")
    else:
        verb = "was awarded" if paid.operation == "award" else "earned"
        done(f"{paid.agent} {verb} {tokens(paid.amount)} tokens for {what} ({balance})")
        if paid.note:
            note(paid.note)
    if paid.operation == "commit" and paid.source == DEFAULT_CONTRACT and paid.project:
        note(f"no contract matches project {paid.project!r}, so the default contract paid "
             "(contracts are in config.toml)")


def charge(spent: Charge) -> None:
    """An LLM request an agent paid for."""
    what = (f"{tokens(spent.amount)} tokens on {spent.model} for "
            f"{spent.inference_tokens:,} inference tokens")
    balance = f"balance {tokens(spent.tokens)}"
    if spent.replayed:
        replayed(f"Already charged: {spent.agent} used {what}; not charged again ({balance})")
    else:
        done(f"{spent.agent} used {what} ({balance})")
    if spent.note:
        note(spent.note)


def pool_created(view: PoolView, creator: str) -> None:
    who = ("anyone may join" if view.open
           else f"invite-only: `token-exchange pool invite {view.id} AGENT`")
    line = (f"{view.id} ({view.name}) with {creator}; minimum contribution "
            f"{tokens(view.min_contribution)}; {who}")
    if view.replayed:
        replayed(f"Already created: {line}; nothing changed")
    else:
        done(f"Created {line}")


def pool_invited(view: PoolView, agent: str) -> None:
    line = f"{agent} may join {view.id} (`token-exchange pool join {view.id} {agent}`)"
    if view.replayed:
        replayed(f"Already invited: {line}")
    elif agent in {m.agent for m in view.members}:
        done(f"{agent} is already a member of {view.id}; nothing changed")
    else:
        done(line)


def pool_left(left: PoolLeave) -> None:
    line = (f"{left.agent} left {left.pool_id} with its stake of {tokens(left.amount)}")
    figures = f"{left.agent} {tokens(left.tokens)}, pool {tokens(left.pool_balance)}"
    if left.replayed:
        replayed(f"Already left: {line}; nothing moved again ({figures})")
    else:
        done(f"{line} ({figures})")


def pool_joined(view: PoolView, agent: str) -> None:
    members = ", ".join(m.agent for m in view.members)
    if view.replayed:
        replayed(f"Already joined: {agent} is a member of {view.id}; members: {members}")
    else:
        done(f"{agent} is a member of {view.id}; members: {members}")


def contribution(moved: PoolContribution) -> None:
    figures = (f"pool {tokens(moved.pool_balance)}, {moved.agent} {tokens(moved.tokens)}")
    line = f"{moved.agent} contributed {tokens(moved.amount)} to {moved.pool_id}"
    if moved.replayed:
        replayed(f"Already done: {line}; nothing moved again ({figures})")
    else:
        done(f"{line} ({figures})")


def pool_spend(spent: PoolSpend) -> None:
    line = (f"{spent.pool_id} spent {tokens(spent.amount)} tokens on {spent.model} for "
            f"{spent.inference_tokens:,} inference tokens")
    if spent.replayed:
        replayed(f"Already spent: {line}; not charged again "
                 f"(pool {tokens(spent.pool_balance)} left)")
    else:
        done(f"{line} (pool {tokens(spent.pool_balance)} left)")
    for credit in spent.credits:
        note(f"{credit.agent}: {credit.share_percent}% of it, {tokens(credit.credited)} from "
             f"its stake of {tokens(credit.stake)} (its own consumption)")


def dissolution(closed: PoolDissolution) -> None:
    if closed.replayed:
        replayed(f"Already dissolved {closed.pool_id} (returned {tokens(closed.amount)} in "
                 "stakes then); nothing returned again")
    else:
        done(f"Dissolved {closed.pool_id}; returned {tokens(closed.amount)} in stakes")
    for refund in closed.refunds:
        note(f"{refund.agent}: +{tokens(refund.amount)} (balance {tokens(refund.tokens)})")
