"""Team pools: create, invite, join, contribute, spend, leave, show, list, dissolve."""

from __future__ import annotations

from typing import Annotated

import typer

from ..economy.records import PoolView
from ..formats.json_codec import to_json
from . import replies
from .arguments import (
    Agent,
    Amount,
    Description,
    IdempotencyKey,
    InferenceTokens,
    Member,
    Model,
    PoolId,
)
from .options import ExchangeOptions, command_group, exchange_options, respond
from .output import stdout, table, tokens, when

# So that "-5" reaches the amount parser (which says why it is wrong) instead of being
# taken for an unknown option.
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}

pool_app = command_group(
    "pool", "Team pools: agents put tokens together for expensive models. Invite-only unless "
    "created --open; each member's stake pays its share of a spend, within its own limits.")


@pool_app.command("create", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", show_default=False,
                                        help="A name for the pool (its id is made for it).")],
    creator: Annotated[str, typer.Argument(metavar="CREATOR", show_default=False,
                                           help="The agent creating it; its first member.")],
    min_contribution: Annotated[str, typer.Argument(
        metavar="MIN_CONTRIBUTION", show_default=False,
        help="The least a member may put in at once, in exchange tokens (100).")],
    open_to_all: Annotated[bool, typer.Option(
        "--open", help="Anyone may join (default: only agents the creator invites).")] = False,
    idempotency_key: IdempotencyKey = None,
    *, opts: ExchangeOptions,
) -> None:
    """Create a pool; the creator is its first member. Invite-only unless --open.

    Example: token-exchange pool create opus-team claude 100
    """
    respond(opts, lambda ex: ex.pool_create(name, creator, min_contribution, open=open_to_all,
                                            idempotency_key=idempotency_key),
            lambda view: replies.pool_created(view, creator))


@pool_app.command("invite")
@exchange_options
def invite(pool_id: PoolId, agent: Agent, idempotency_key: IdempotencyKey = None, *,
           opts: ExchangeOptions) -> None:
    """Invite an agent to join a pool (its creator invites).

    Example: token-exchange pool invite pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_invite(pool_id, agent, idempotency_key=idempotency_key),
            lambda view: replies.pool_invited(view, agent))


@pool_app.command("join")
@exchange_options
def join(pool_id: PoolId, agent: Agent, idempotency_key: IdempotencyKey = None, *,
         opts: ExchangeOptions) -> None:
    """Join an open pool, or one whose creator invited you (joining twice changes nothing).

    Example: token-exchange pool join pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_join(pool_id, agent, idempotency_key=idempotency_key),
            lambda view: replies.pool_joined(view, agent))


@pool_app.command("contribute", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def contribute(pool_id: PoolId, agent: Member, amount: Amount,
               idempotency_key: IdempotencyKey = None, *, opts: ExchangeOptions) -> None:
    """Move tokens from a member's wallet into the pool, to its stake (the reserve applies).

    Example: token-exchange pool contribute pool-1 claude 600
    """
    respond(opts, lambda ex: ex.pool_contribute(pool_id, agent, amount,
                                                idempotency_key=idempotency_key),
            replies.contribution)


@pool_app.command("spend", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def spend(pool_id: PoolId, model: Model, token_count: InferenceTokens,
          description: Description,
          agent: Annotated[str | None, typer.Option(
              "--agent", metavar="AGENT", help="The member spending, who needs a stake "
              "(default: the pool's creator).")] = None,
          idempotency_key: IdempotencyKey = None, *, opts: ExchangeOptions) -> None:
    """Spend pool tokens on a model: drawn from each member's stake in proportion, each
    draw counted against that member's own limits.

    Example: token-exchange pool spend pool-1 claude-opus 10000 "complex analysis" --agent builder
    """
    respond(opts, lambda ex: ex.pool_spend(pool_id, model, token_count, description,
                                           agent=agent, idempotency_key=idempotency_key),
            replies.pool_spend)


@pool_app.command("leave")
@exchange_options
def leave(pool_id: PoolId, agent: Member, idempotency_key: IdempotencyKey = None, *,
          opts: ExchangeOptions) -> None:
    """Leave a pool and take your stake back (a creator dissolves instead).

    Example: token-exchange pool leave pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_leave(pool_id, agent, idempotency_key=idempotency_key),
            replies.pool_left)


@pool_app.command("show")
@exchange_options
def show(pool_id: PoolId, *, opts: ExchangeOptions) -> None:
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
def dissolve(pool_id: PoolId, idempotency_key: IdempotencyKey = None, *,
             opts: ExchangeOptions) -> None:
    """Close a pool and return every member its stake (its creator dissolves).

    Example: token-exchange pool dissolve pool-1
    """
    respond(opts, lambda ex: ex.pool_dissolve(pool_id, idempotency_key=idempotency_key),
            replies.dissolution)


def _print_pools(views: list[PoolView]) -> None:
    grid = table("Pools", "Id", "Name", "Creator", "Balance", "Contributed", "Spent", "Members",
                 "State", right=("Balance", "Contributed", "Spent"))
    for v in views:
        grid.add_row(v.id, v.name, v.creator, tokens(v.balance), tokens(v.total_contributed),
                     tokens(v.total_spent), ", ".join(m.agent for m in v.members),
                     "dissolved" if v.dissolved_at else _state(v))
    stdout.print(grid)


def _state(view: PoolView) -> str:
    return "open to all" if view.open else "invite-only"


def _print_pool(view: PoolView) -> None:
    state = f"dissolved {when(view.dissolved_at)}" if view.dissolved_at else _state(view)
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
