"""Team pools: create, join, contribute, spend, show, list, dissolve."""

from __future__ import annotations

from ..clock import iso_utc
from ..economy.records import PoolDissolution, PoolSpend, PoolView
from ..formats.json_codec import to_json
from ..money import display_amount, micro
from .options import ExchangeOptions, command_group, exchange_options, respond
from .output import stdout, table, tokens

# So that "-5" reaches the amount parser (which says why it is wrong) instead of being
# taken for an unknown option.
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}

pool_app = command_group(
    "pool", "Team pools: agents put tokens together for expensive models, credited pro rata.")


@pool_app.command("create", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def create(name: str, creator: str, min_contribution: str, *, opts: ExchangeOptions) -> None:
    """Create a pool; the creator is its first member.

    Example: token-exchange pool create opus-team claude 100
    """
    respond(opts, lambda ex: ex.pool_create(name, creator, min_contribution), lambda view:
            stdout.print(f"✅ Created {view.id} ({view.name}) with {creator}; minimum "
                         f"contribution {tokens(view.min_contribution)}"))


@pool_app.command("join")
@exchange_options
def join(pool_id: str, agent: str, *, opts: ExchangeOptions) -> None:
    """Join a pool as a member (joining twice changes nothing).

    Example: token-exchange pool join pool-1 builder
    """
    respond(opts, lambda ex: ex.pool_join(pool_id, agent), lambda view:
            stdout.print(f"✅ {agent} is a member of {view.id}; members: "
                         + ", ".join(m.agent for m in view.members)))


@pool_app.command("contribute", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def contribute(pool_id: str, agent: str, amount: str, *, opts: ExchangeOptions) -> None:
    """Move tokens from a member's wallet into the pool (the reserve applies).

    Example: token-exchange pool contribute pool-1 claude 600
    """
    respond(opts, lambda ex: ex.pool_contribute(pool_id, agent, amount), lambda done:
            stdout.print(f"✅ {agent} contributed {tokens(done.amount)} to {pool_id} "
                         f"(pool {tokens(done.pool_balance)}, {agent} {tokens(done.tokens)})"))


@pool_app.command("spend", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def spend(pool_id: str, model: str, token_count: str, description: str, *,
          opts: ExchangeOptions) -> None:
    """Spend pool tokens on a model; each contributor is credited in proportion.

    Example: token-exchange pool spend pool-1 claude-opus 10000 "complex analysis"
    """
    respond(opts, lambda ex: ex.pool_spend(pool_id, model, token_count, description),
            _print_spend)


@pool_app.command("show")
@exchange_options
def show(pool_id: str, *, opts: ExchangeOptions) -> None:
    """A pool's balance, members, contributions and credit shares.

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
    """Close a pool and refund what is left to contributors in proportion.

    Example: token-exchange pool dissolve pool-1
    """
    respond(opts, lambda ex: ex.pool_dissolve(pool_id), _print_dissolution)


def _print_spend(done: PoolSpend) -> None:
    stdout.print(f"✅ {done.pool_id} spent {display_amount(micro(done.amount))} tokens on "
                 f"{done.model} for {done.inference_tokens} tokens (pool "
                 f"{tokens(done.pool_balance)} left)")
    for credit in done.credits:
        stdout.print(f"   {credit.agent}: {credit.share_percent}% credit "
                     f"({tokens(credit.credited)} tokens)")


def _print_pools(views: list[PoolView]) -> None:
    grid = table("Pools", "Id", "Name", "Creator", "Balance", "Contributed", "Spent", "Members",
                 "State", right=("Balance", "Contributed", "Spent"))
    for v in views:
        grid.add_row(v.id, v.name, v.creator, tokens(v.balance), tokens(v.total_contributed),
                     tokens(v.total_spent), ", ".join(m.agent for m in v.members),
                     "dissolved" if v.dissolved_at else "open")
    stdout.print(grid)


def _print_dissolution(done: PoolDissolution) -> None:
    stdout.print(f"✅ Dissolved {done.pool_id}; refunded {tokens(done.amount)}")
    for refund in done.refunds:
        stdout.print(f"   {refund.agent}: +{tokens(refund.amount)} (now {tokens(refund.tokens)})")


def _print_pool(view: PoolView) -> None:
    state = f"dissolved {iso_utc(view.dissolved_at)}" if view.dissolved_at else "open"
    stdout.print(f"{view.id} — {view.name} (creator {view.creator}, {state})")
    stdout.print(f"Balance {tokens(view.balance)} · contributed {tokens(view.total_contributed)}"
                 f" · spent {tokens(view.total_spent)} · minimum {tokens(view.min_contribution)}")
    grid = table(None, "Member", "Contributed", "Credit share", right=("Contributed",
                                                                      "Credit share"))
    for m in view.members:
        grid.add_row(m.agent, tokens(m.contributed), f"{m.share_percent}%")
    stdout.print(grid)
