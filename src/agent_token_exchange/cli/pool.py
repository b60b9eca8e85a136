"""Team pools: create, invite, join, contribute, spend, leave, show, list, dissolve."""

from __future__ import annotations

from typing import Annotated

import typer

from ..clock import iso_utc
from ..economy.records import PoolDissolution, PoolLeave, PoolSpend, PoolView
from ..formats.json_codec import to_json
from ..money import display_amount, micro
from .options import ExchangeOptions, command_group, exchange_options, respond
from .output import stdout, table, tokens

# So that "-5" reaches the amount parser (which says why it is wrong) instead of being
# taken for an unknown option.
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}

pool_app = command_group(
    "pool", "Team pools: agents put tokens together for expensive models. Invite-only unless "
    "created --open; each member's stake pays its share of a spend, within its own limits.")


@pool_app.command("create", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def create(name: str, creator: str, min_contribution: str,
           open_to_all: Annotated[bool, typer.Option(
               "--open", help="Anyone may join (default: only agents the creator invites).")
           ] = False, *, opts: ExchangeOptions) -> None:
    """Create a pool; the creator is its first member. Invite-only unless --open.

    Example: token-exchange pool create opus-team claude 100
    """
    respond(opts, lambda ex: ex.pool_create(name, creator, min_contribution,
                                            open=open_to_all), _print_created)


@pool_app.command("invite")
@exchange_options
def invite(pool_id: str, agent: str, *, opts: ExchangeOptions) -> None:
    """Invite an agent to join a pool (its creator invites).

    Example: token-exchange pool invite pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_invite(pool_id, agent), lambda view:
            stdout.print(f"✅ {agent} may join {view.id} (`pool join {view.id} {agent}`)"))


@pool_app.command("join")
@exchange_options
def join(pool_id: str, agent: str, *, opts: ExchangeOptions) -> None:
    """Join an open pool, or one whose creator invited you (joining twice changes nothing).

    Example: token-exchange pool join pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_join(pool_id, agent), lambda view:
            stdout.print(f"✅ {agent} is a member of {view.id}; members: "
                         + ", ".join(m.agent for m in view.members)))


@pool_app.command("contribute", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def contribute(pool_id: str, agent: str, amount: str, *, opts: ExchangeOptions) -> None:
    """Move tokens from a member's wallet into the pool, to its stake (the reserve applies).

    Example: token-exchange pool contribute pool-1 claude 600
    """
    respond(opts, lambda ex: ex.pool_contribute(pool_id, agent, amount), lambda done:
            stdout.print(f"✅ {agent} contributed {tokens(done.amount)} to {pool_id} "
                         f"(pool {tokens(done.pool_balance)}, {agent} {tokens(done.tokens)})"))


@pool_app.command("spend", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def spend(pool_id: str, model: str, token_count: str, description: str,
          agent: Annotated[str | None, typer.Option(
              "--agent", help="The member spending, who needs a stake (default: the "
              "pool's creator).")] = None, *, opts: ExchangeOptions) -> None:
    """Spend pool tokens on a model: drawn from each member's stake in proportion, each
    draw counted against that member's own limits.

    Example: token-exchange pool spend pool-1 claude-opus 10000 "complex analysis" --agent builder
    """
    respond(opts, lambda ex: ex.pool_spend(pool_id, model, token_count, description,
                                           agent=agent), _print_spend)


@pool_app.command("leave")
@exchange_options
def leave(pool_id: str, agent: str, *, opts: ExchangeOptions) -> None:
    """Leave a pool and take your stake back (a creator dissolves instead).

    Example: token-exchange pool leave pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_leave(pool_id, agent), _print_leave)


@pool_app.command("show")
@exchange_options
def show(pool_id: str, *, opts: ExchangeOptions) -> None:
    """A pool's balance, members, contributions, stakes and invitations.

    Example: token-exchange pool show pool-1
    """
    respond(opts, lambda ex: ex.pool_show(pool_id), _print_pool)


@pool_app.command("list")
@exchange_options
def list_pools(*, opts: ExchangeOptions) -> None:
    """Every pool with its balance and members.

    Example: token-exchange pool list
    """
    respond(opts, lambda ex: ex.pool_list(), _print_pools,
            json_as=lambda views: {"pools": to_json(views)})


@pool_app.command("dissolve")
@exchange_options
def dissolve(pool_id: str, *, opts: ExchangeOptions) -> None:
    """Close a pool and return every member its stake (its creator dissolves).

    Example: token-exchange pool dissolve pool-1
    """
    respond(opts, lambda ex: ex.pool_dissolve(pool_id), _print_dissolution)


def _state(view: PoolView) -> str:
    return "open to all" if view.open else "invite-only"


def _print_created(view: PoolView) -> None:
    who = "anyone may join" if view.open else f"invite with `pool invite {view.id} AGENT`"
    stdout.print(f"✅ Created {view.id} ({view.name}) with {view.creator}; minimum "
                 f"contribution {tokens(view.min_contribution)}; {who}")


def _print_spend(done: PoolSpend) -> None:
    stdout.print(f"✅ {done.pool_id} spent {display_amount(micro(done.amount))} tokens on "
                 f"{done.model} for {done.inference_tokens} tokens (pool "
                 f"{tokens(done.pool_balance)} left)")
    for credit in done.credits:
        stdout.print(f"   {credit.agent}: {credit.share_percent}% of it, "
                     f"{tokens(credit.credited)} from its stake of {tokens(credit.stake)}")


def _print_leave(done: PoolLeave) -> None:
    stdout.print(f"✅ {done.agent} left {done.pool_id} with its stake of {tokens(done.amount)} "
                 f"(now {tokens(done.tokens)}; pool {tokens(done.pool_balance)})")


def _print_pools(views: list[PoolView]) -> None:
    grid = table("Pools", "Id", "Name", "Creator", "Balance", "Contributed", "Spent", "Members",
                 "State", right=("Balance", "Contributed", "Spent"))
    for v in views:
        grid.add_row(v.id, v.name, v.creator, tokens(v.balance), tokens(v.total_contributed),
                     tokens(v.total_spent), ", ".join(m.agent for m in v.members),
                     "dissolved" if v.dissolved_at else _state(v))
    stdout.print(grid)


def _print_dissolution(done: PoolDissolution) -> None:
    stdout.print(f"✅ Dissolved {done.pool_id}; returned {tokens(done.amount)} in stakes")
    for refund in done.refunds:
        stdout.print(f"   {refund.agent}: +{tokens(refund.amount)} (now {tokens(refund.tokens)})")


def _print_pool(view: PoolView) -> None:
    state = f"dissolved {iso_utc(view.dissolved_at)}" if view.dissolved_at else _state(view)
    stdout.print(f"{view.id} — {view.name} (creator {view.creator}, {state})")
    stdout.print(f"Balance {tokens(view.balance)} · contributed {tokens(view.total_contributed)}"
                 f" · spent {tokens(view.total_spent)} · minimum {tokens(view.min_contribution)}")
    grid = table(None, "Member", "Contributed", "Stake", "Share", right=(
        "Contributed", "Stake", "Share"))
    for m in view.members:
        grid.add_row(m.agent, tokens(m.contributed), tokens(m.stake), f"{m.share_percent}%")
    stdout.print(grid)
    if view.invited:
        stdout.print("Invited: " + ", ".join(view.invited))
