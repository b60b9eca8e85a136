"""Staking and governance: stake, unstake, propose, vote, proposal list|show, params."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from ..economy.governance_records import Parameter, Proposal, StakeChange
from ..formats.json_codec import to_json
from .arguments import Agent, Amount, IdempotencyKey
from .options import ExchangeOptions, command_group, exchange_options, respond
from .output import done, note, replayed, stdout, table, tokens, when

# So that "-5" reaches the amount parser (which says why it is wrong).
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}

ProposalId = Annotated[str, typer.Argument(
    metavar="PROPOSAL", show_default=False,
    help="The proposal's id, like prop-1 (`token-exchange proposal list` shows them).")]

proposal_app = command_group(
    "proposal", "Governance proposals: each changes one parameter once staked agents vote "
    "it through (quorum, more yes than no) and its timelock has passed.")


def register(app: typer.Typer) -> None:
    for command in (stake, unstake, propose, vote, params):
        app.command(context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)(command)
    app.add_typer(proposal_app)


@exchange_options
def stake(agent: Agent, amount: Amount, idempotency_key: IdempotencyKey = None, *,
          opts: ExchangeOptions) -> None:
    """Stake tokens for governance: they move from the wallet to the agent's stake (the
    reserve applies) and are its voting power on proposals made from now on.

    Example: token-exchange stake claude 1000
    """
    respond(opts, lambda ex: ex.stake(agent, amount, idempotency_key=idempotency_key),
            _stake_change)


@exchange_options
def unstake(agent: Agent, amount: Amount, idempotency_key: IdempotencyKey = None, *,
            opts: ExchangeOptions) -> None:
    """Unstake tokens: they return to the wallet after the unbonding period
    (governance.unbonding_hours), when settle runs.

    Example: token-exchange unstake claude 400
    """
    respond(opts, lambda ex: ex.unstake(agent, amount, idempotency_key=idempotency_key),
            _stake_change)


@exchange_options
def propose(
    agent: Agent,
    parameter: Annotated[str, typer.Argument(
        metavar="PARAMETER", show_default=False,
        help="What to change, as config.toml names it: rate_limits.hourly|daily|burst|"
        "reserve, models.<model>.cost_per_1k, contracts.<contract>.multiplier, "
        "issues.priority_rewards.<P>, issues.type_multipliers.<type>, start_balance "
        "(`token-exchange params` lists them).")],
    value: Annotated[str, typer.Argument(
        metavar="VALUE", show_default=False,
        help="The new value, a plain decimal valid for that parameter (2000, 1.5).")],
    reason: Annotated[str, typer.Option(
        "--reason", metavar="TEXT", show_default=False,
        help="Why: shown to every voter.")],
    idempotency_key: IdempotencyKey = None, *, opts: ExchangeOptions,
) -> None:
    """Propose a new value for one parameter (needs governance.proposal_threshold staked).
    Staked agents vote for governance.voting_hours; if it passes it takes effect after
    governance.timelock_hours.

    Example: token-exchange propose claude rate_limits.hourly 2000 --reason "longer sessions"
    """
    respond(opts, lambda ex: ex.propose(agent, parameter, value, reason=reason,
                                        idempotency_key=idempotency_key), _proposed)


@exchange_options
def vote(
    agent: Agent, proposal_id: ProposalId,
    choice: Annotated[str, typer.Argument(metavar="CHOICE", show_default=False,
                                          help="yes, no or abstain.")],
    idempotency_key: IdempotencyKey = None, *, opts: ExchangeOptions,
) -> None:
    """Vote on an open proposal with the stake the agent held when it was made; voting
    again replaces the vote.

    Example: token-exchange vote builder prop-1 yes
    """
    respond(opts, lambda ex: ex.vote(agent, proposal_id, choice,
                                     idempotency_key=idempotency_key),
            lambda p: _voted(p, agent))


@exchange_options
def params(*, opts: ExchangeOptions) -> None:
    """Every parameter a proposal may change: its value in force and where it comes from
    (config.toml, or the proposal that set it).

    Example: token-exchange params
    """
    respond(opts, lambda ex: ex.parameters(), _print_parameters,
            json_as=lambda found: {"parameters": to_json(found)})


@proposal_app.command("list")
@exchange_options
def list_proposals(*, opts: ExchangeOptions) -> None:
    """Every proposal with its status and tally.

    Example: token-exchange proposal list
    """
    respond(opts, lambda ex: ex.proposals(), _print_proposals,
            json_as=lambda found: {"proposals": to_json(found)})


@proposal_app.command("show")
@exchange_options
def show(proposal_id: ProposalId, *, opts: ExchangeOptions) -> None:
    """One proposal: what it changes, why, its tally, quorum and votes.

    Example: token-exchange proposal show prop-1
    """
    respond(opts, lambda ex: ex.proposal_show(proposal_id), _print_proposal)


# -- replies ----------------------------------------------------------------------------------


def _stake_change(change: StakeChange) -> None:
    verb = "Staked" if change.action == "stake" else "Unstaked"
    line = f"{verb} {tokens(change.amount)} for {change.agent}"
    if change.replayed:
        replayed(f"Already done: {line}")
    else:
        done(line)
    note(f"staked {tokens(change.staked)} · unbonding {tokens(change.unbonding)} · "
         f"wallet {tokens(change.tokens)}")
    if change.release_at is not None:
        note(f"returns to the wallet at {when(change.release_at)} (when settle runs)")


def _proposed(proposal: Proposal) -> None:
    line = (f"{proposal.id}: {proposal.parameter} = {proposal.value} "
            f"(proposed by {proposal.proposer})")
    (replayed if proposal.replayed else done)(line)
    note(f"voting until {when(proposal.voting_ends_at)}; stake at creation "
         f"{tokens(proposal.total_stake)}, quorum {_percent(proposal.quorum)}")


def _voted(proposal: Proposal, agent: str) -> None:
    mine = next((v for v in proposal.votes if v.agent == agent), None)
    choice = mine.choice if mine else "?"
    (replayed if proposal.replayed else done)(f"{agent} voted {choice} on {proposal.id}")
    note(_tally(proposal))


def _tally(p: Proposal) -> str:
    return (f"yes {tokens(p.yes)} · no {tokens(p.no)} · abstain {tokens(p.abstain)} · "
            f"turnout {_percent(p.turnout)} of {tokens(p.total_stake)} "
            f"(quorum {_percent(p.quorum)})")


def _percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('0.1'))}%"


def _print_proposals(found: list[Proposal]) -> None:
    grid = table("Proposals", "Id", "Parameter", "Value", "Status", "Yes", "No", "Turnout",
                 "Voting ends", right=("Yes", "No", "Turnout"))
    for p in found:
        grid.add_row(p.id, p.parameter, str(p.value), p.status, tokens(p.yes), tokens(p.no),
                     _percent(p.turnout), when(p.voting_ends_at))
    stdout.print(grid)


def _print_proposal(p: Proposal) -> None:
    stdout.print(f"{p.id} — {p.parameter} = {p.value} ({p.status}), proposed by {p.proposer} "
                 f"at {when(p.created_at)}", markup=False)
    stdout.print(f"Reason: {p.reason}", markup=False)
    stdout.print(_tally(p), markup=False)
    stdout.print(f"Voting ends {when(p.voting_ends_at)}; if it passes, in effect from "
                 f"{when(p.effective_at)}", markup=False)
    if p.votes:
        grid = table(None, "Voter", "Choice", "Power", right=("Power",))
        for v in p.votes:
            grid.add_row(v.agent, v.choice, tokens(v.power))
        stdout.print(grid)


def _print_parameters(found: list[Parameter]) -> None:
    grid = table("Parameters", "Parameter", "Value", "config.toml", "Source",
                 right=("Value", "config.toml"))
    for p in found:
        grid.add_row(p.name, str(p.value), str(p.config_value), p.source)
    stdout.print(grid)
