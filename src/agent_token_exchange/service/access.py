"""What a key may read: the rule, written once.

An admin key reads everything. An agent's key reads:

- the team's status table: every agent's tokens, earned, spent and window use
  (``GET /v1/agents``), which the whole team shares;
- its own wallet, history, limits (with its refusal counts) and refusals, and the
  transfers and live events touching its own wallet;
- its pools: those it belongs or belonged to, is invited to, or that are open to all;
- the economy's shared facts: reward previews, whether a commit or an issue was paid,
  what is left of a contract's budget.

Nothing else of another agent: not its wallet, history, limits, refusals or transfers,
nor an invite-only pool it has no part in; and no doctor, audit or config.

The rule is enforced where the rows are read: the core's queries take the agent a read
is for (``agent=``) and choose its rows in SQL before the page or batch is cut, so a
page holds that agent's rows and nobody else's. The server (its routes and its event
stream) asks ``reader`` (or ``require_own``) which agent that is.
"""

from __future__ import annotations

from ..errors import Forbidden
from .api_keys import Principal


def reader(principal: Principal, named: str | None = None) -> str | None:
    """The agent a read is confined to: an agent's key reads as itself (naming another
    agent is Forbidden); an admin key reads as the agent it names, or as nobody in
    particular (every row)."""
    if principal.admin:
        return named
    if named is not None and named != principal.agent:
        raise Forbidden(f"a key for {principal.agent} cannot read {named}'s records")
    return principal.agent


def require_own(principal: Principal, agent: str) -> None:
    """A read of one agent's own figures (wallet, history, limits): its key, or an
    admin's."""
    reader(principal, agent)


def pool_hidden_message(pool_id: str, agent: str) -> str:
    return (f"{pool_id} is invite-only and {agent} is not a member of it or invited to it: "
            "a key reads its own pools and open ones")


__all__ = ["pool_hidden_message", "reader", "require_own"]
