"""`token-exchange mcp`: the exchange's tools for one agent over the Model Context
Protocol, on stdio (an MCP client starts it as a subprocess)."""

from __future__ import annotations

import os
from typing import Annotated

import httpx
import typer

from ..errors import InvalidInput, Unreachable
from .options import ExchangeOptions, exchange_options, open_from


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


@exchange_options
def mcp(
    agent: Annotated[str | None, typer.Option(
        "--agent", metavar="NAME", help="The agent the tools act as (with --server, the "
        "API key's agent unless the key is an admin's).")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Serve MCP tools for one agent on stdio: balance, limits, history, quote, spend,
    pool show and contribute, beads reward preview, and the credit market's loans, futures
    and governance tools. Nothing else is printed on stdout.

    Example: token-exchange mcp --agent claude
    """
    from ..integrations.beads import Tracker
    from ..mcp.server import build_server

    remote = opts.server or (None if opts.home is not None
                             else os.environ.get("TOKEN_EXCHANGE_URL"))
    with open_from(opts) as ex:
        acting = _remote_agent(remote, opts, agent) if remote else agent
        if acting is None:
            raise InvalidInput("name the agent the tools act as: --agent NAME")
        if acting not in ex.agents():
            raise InvalidInput(f"unknown agent {acting!r} (known: {', '.join(ex.agents())})")
        build_server(ex, acting, issues=lambda issue_id: Tracker().issue(issue_id)).run("stdio")


def _remote_agent(url: str, opts: ExchangeOptions, named: str | None) -> str | None:
    """The agent behind the API key (``/v1/whoami``); an admin key acts as ``named``."""
    key = opts.api_key or os.environ.get("TOKEN_EXCHANGE_KEY")
    try:
        answer = httpx.get(url.rstrip("/") + "/v1/whoami", timeout=10,
                           headers={"Authorization": f"Bearer {key}"} if key else {})
    except httpx.HTTPError as exc:
        raise Unreachable(f"cannot reach the exchange at {url}: {exc}") from None
    if answer.status_code != 200:
        raise InvalidInput(f"{url} did not accept the key (HTTP {answer.status_code}); pass "
                           "an agent's key with --api-key")
    holder = answer.json().get("agent")
    if holder is not None and named is not None and named != holder:
        raise InvalidInput(f"the key is {holder}'s: drop --agent or use {named}'s key")
    return holder or named
