"""Futures on work: open, accept, confirm, cancel, list, show."""

from __future__ import annotations

from typing import Annotated

import typer

from ..economy.future_records import Future
from ..formats.json_codec import to_json
from .arguments import IdempotencyKey
from .options import ExchangeOptions, command_group, exchange_options, respond
from .output import done, note, replayed, stdout, table, tokens, when

future_app = command_group(
    "future", "Futures on work: a buyer escrows a price for named work by a deadline; a "
    "seller accepts by posting collateral and is paid the price at once. The work itself "
    "delivers (a paid commit or closed issue), or the buyer confirms it; a missed deadline "
    "gives the collateral to the buyer.")

FutureId = Annotated[str, typer.Argument(
    metavar="FUTURE", show_default=False,
    help="The future's id, like future-1 (`token-exchange future list` shows them).")]
Buyer = Annotated[str, typer.Argument(
    metavar="BUYER", show_default=False, help="The agent buying the work (pays the price).")]
Seller = Annotated[str, typer.Argument(
    metavar="SELLER", show_default=False,
    help="The agent accepting (posts the collateral, is paid the price).")]
Work = Annotated[str, typer.Argument(
    metavar="WORK", show_default=False,
    help="bd:<issue id> (delivered when that issue's reward is paid to the seller), "
    "commit:<project pattern> (a paid commit by the seller to a matching project) or "
    "manual (the buyer confirms).")]
Actor = Annotated[str | None, typer.Option(
    "--agent", metavar="AGENT", show_default=False,
    help="The agent acting (default: the future's buyer).")]


@future_app.command("open")
@exchange_options
def open_future(
    buyer: Buyer, work: Work,
    price: Annotated[str, typer.Option(
        "--price", metavar="AMOUNT", show_default=False,
        help="What the buyer pays, escrowed now (the reserve applies).")],
    collateral: Annotated[str, typer.Option(
        "--collateral", metavar="AMOUNT", show_default=False,
        help="What the seller must post on accepting; the buyer's if the work is late.")],
    by: Annotated[str, typer.Option(
        "--by", metavar="DURATION", show_default=False,
        help="The deadline from now: 90m, 24h, 2d, 1w (a bare number is hours).")],
    seller: Annotated[str | None, typer.Option(
        "--seller", metavar="SELLER", show_default=False,
        help="Only this agent may accept (default: any agent but the buyer).")] = None,
    idempotency_key: IdempotencyKey = None,
    *, opts: ExchangeOptions,
) -> None:
    """Open a future: the price is escrowed from the buyer until a seller accepts.

    Example: token-exchange future open claude bd:bd-0479m --price 300 --collateral 100 --by 24h
    """
    respond(opts, lambda ex: ex.future_open(buyer, work, price=price, collateral=collateral,
                                            deadline_hours=by, seller=seller,
                                            idempotency_key=idempotency_key),
            lambda f: _said(f, f"{f.buyer} opened {f.id}: {tokens(f.price)} escrowed for "
                               f"{f.work} by {when(f.deadline)}"
                               + (f", for {f.named_seller} only" if f.named_seller else "")))


@future_app.command("accept")
@exchange_options
def accept(future_id: FutureId, seller: Seller, idempotency_key: IdempotencyKey = None, *,
           opts: ExchangeOptions) -> None:
    """Accept a future: post its collateral and be paid its price at once.

    Example: token-exchange future accept future-1 builder
    """
    respond(opts, lambda ex: ex.future_accept(future_id, seller,
                                              idempotency_key=idempotency_key),
            lambda f: _said(f, f"{f.seller} accepted {f.id}: paid {tokens(f.price)} now, "
                               f"{tokens(f.collateral)} collateral held until {f.work} is "
                               f"delivered (by {when(f.deadline)})"))


@future_app.command("confirm")
@exchange_options
def confirm(future_id: FutureId, agent: Actor = None, idempotency_key: IdempotencyKey = None,
            *, opts: ExchangeOptions) -> None:
    """Confirm manual work as the buyer: the collateral returns to the seller.

    Example: token-exchange future confirm future-1
    """
    respond(opts, lambda ex: ex.future_confirm(future_id, agent=agent,
                                               idempotency_key=idempotency_key),
            lambda f: _said(f, f"{f.buyer} confirmed {f.id}: {tokens(f.collateral)} "
                               f"collateral returned to {f.seller}"))


@future_app.command("cancel")
@exchange_options
def cancel(future_id: FutureId, agent: Actor = None, idempotency_key: IdempotencyKey = None,
           *, opts: ExchangeOptions) -> None:
    """Withdraw a future nobody has accepted: the price comes back to the buyer.

    Example: token-exchange future cancel future-1
    """
    respond(opts, lambda ex: ex.future_cancel(future_id, agent=agent,
                                              idempotency_key=idempotency_key),
            lambda f: _said(f, f"{f.buyer} cancelled {f.id}: {tokens(f.price)} refunded"))


@future_app.command("list")
@exchange_options
def list_futures(agent: Annotated[str | None, typer.Option(
        "--agent", metavar="AGENT", show_default=False,
        help="Only the futures this agent bought, sold or is offered.")] = None,
        *, opts: ExchangeOptions) -> None:
    """Every future with its work, price, collateral, deadline and status.

    Example: token-exchange future list --agent builder
    """
    respond(opts, lambda ex: ex.futures(agent), _print_futures,
            json_as=lambda found: {"futures": to_json(found)})


@future_app.command("show")
@exchange_options
def show(future_id: FutureId, *, opts: ExchangeOptions) -> None:
    """One future: its work, parties, amounts, deadline, status and what delivered it.

    Example: token-exchange future show future-1
    """
    respond(opts, lambda ex: ex.future_show(future_id), _print_future)


def _said(future: Future, line: str) -> None:
    if future.replayed:
        replayed(f"Already done; nothing changed ({future.id} is {future.status})")
    else:
        done(line)


def _print_futures(found: list[Future]) -> None:
    grid = table("Futures", "Id", "Buyer", "Seller", "Work", "Price", "Due", "Status",
                 right=("Price",))
    for f in found:
        seller = f.seller or (f"{f.named_seller}?" if f.named_seller else "-")
        grid.add_row(f.id, f.buyer, seller, f.work, tokens(f.price), when(f.deadline)[:16],
                     f.status)
    stdout.print(grid)


def _print_future(f: Future) -> None:
    stdout.print(f"{f.id} — {f.work} for {f.buyer}, {f.status}")
    stdout.print(f"Price {tokens(f.price)} · collateral {tokens(f.collateral)} · escrow holds "
                 f"{tokens(f.escrow)} · deadline {when(f.deadline)}")
    if f.seller:
        stdout.print(f"Seller {f.seller}, accepted {when(f.accepted_at or f.created_at)}")
    elif f.named_seller:
        note(f"offered to {f.named_seller} only")
    if f.proof:
        note(f"delivered by {f.proof}")
