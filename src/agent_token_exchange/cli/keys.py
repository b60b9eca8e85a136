"""API keys for `token-exchange serve`: create, list, revoke. Local only: keys are managed
on the machine that holds the exchange."""

from __future__ import annotations

from typing import Annotated

import typer

from ..economy.records import ApiKey, IssuedKey
from ..formats.json_codec import to_json
from .options import ExchangeOptions, command_group, exchange_options, open_local, respond
from .output import done, replayed, stderr, stdout, table, when

keys_app = command_group("keys", "API keys for the HTTP service: one per agent, or admin keys.")


@keys_app.command("create")
@exchange_options
def create(
    agent: Annotated[str | None, typer.Argument(
        metavar="AGENT", show_default=False,
        help="The agent the key acts as (or give --admin instead).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="An admin key: awards, commits, "
                                        "issue payouts, doctor, every wallet.")] = False,
    label: Annotated[str, typer.Option("--label", metavar="TEXT",
                                       help="A note to tell keys apart.")] = "",
    *, opts: ExchangeOptions,
) -> None:
    """Create an API key for AGENT (or --admin). The key is shown once; only its hash is kept.

    The key alone goes to stdout (what it is for goes to stderr), so a shell can keep it:
    KEY=$(token-exchange keys create --admin).

    Example: token-exchange keys create claude
    """
    respond(opts, lambda ex: ex.keys.create(agent=agent, admin=admin, label=label),
            _print_issued, opener=open_local)


def _print_issued(issued: IssuedKey) -> None:
    who = "admin" if issued.admin else f"agent {issued.agent}"
    stderr.print(f"✅ Created key {issued.key_id} for {who}. It is shown only this once; "
                 "send it as Authorization: Bearer <key>, or log in to the dashboard at "
                 "http://HOST:PORT/#key=<key>", markup=False)
    stdout.print(issued.key, markup=False)


@keys_app.command("list")
@exchange_options
def list_keys(*, opts: ExchangeOptions) -> None:
    """Every API key: id, holder, created and revoked times (never the key itself).

    Example: token-exchange keys list
    """
    respond(opts, lambda ex: ex.keys.list(), _print_keys, opener=open_local,
            json_as=lambda keys: {"keys": to_json(keys)})


def _print_keys(keys: list[ApiKey]) -> None:
    grid = table("API keys", "Id", "Holder", "Label", "Created", "State")
    for k in keys:
        grid.add_row(k.key_id, "admin" if k.admin else str(k.agent), k.label,
                     when(k.created_at),
                     f"revoked {when(k.revoked_at)}" if k.revoked_at else "active")
    stdout.print(grid)


@keys_app.command("revoke")
@exchange_options
def revoke(key_id: Annotated[str, typer.Argument(
        metavar="KEY_ID", show_default=False,
        help="The key's 12-character id (`token-exchange keys list` shows them).")],
        *, opts: ExchangeOptions) -> None:
    """Revoke a key by its id; requests with it are refused at once (401). Revoking it
    again changes nothing and says so.

    Example: token-exchange keys revoke 3f9a1c2b7d4e
    """
    respond(opts, lambda ex: ex.keys.revoke(key_id), _print_revoked, opener=open_local)


def _print_revoked(key: ApiKey) -> None:
    if key.replayed:
        replayed(f"Key {key.key_id} was already revoked (at {when(key.revoked_at or 0)}); "
                 "nothing changed")
    else:
        done(f"Revoked key {key.key_id}")
