"""An MCP server on stdio (the official ``mcp`` SDK) with the tools an agent needs to
mind its tokens: balance, limits (with the largest request allowed now), history, quote,
spend, pool show and contribute, and the beads reward preview; and the credit market's
(market_tools.py): loan offers, take, repay, its loans, credit, the futures board, accept,
stake, unstake, proposals, vote, parameters.

It works on one agent's behalf: ``--agent NAME`` over the local exchange, or the agent
of ``--api-key`` over ``--server``. Every tool answers with the record's JSON, the same
shape ``--json`` prints; a refusal is a tool error with the exchange's one-line message.

    token-exchange mcp --agent claude
    token-exchange mcp --server http://127.0.0.1:8787 --api-key atx_…
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ..api import ExchangeAPI
from ..economy import rules
from ..errors import ExchangeError
from ..formats.json_codec import to_json
from ..money import format_tokens, tokens
from .market_tools import register_market_tools

INSTRUCTIONS = (
    "Agent Token Exchange: you earn tokens for real work and spend them on LLM inference "
    "under hourly, daily, burst and reserve limits. Before a large request, `quote` it; "
    "`limits` shows what is left. Amounts are decimal strings of tokens.")


def build_server(exchange: ExchangeAPI, agent: str,
                 issues: Callable[[str], Any] | None = None) -> MCPServer:
    """The tools over ``exchange`` acting as ``agent``; ``issues`` finds a beads issue by
    id (the preview tool reads the tracker where the server runs)."""
    server = MCPServer("token-exchange", instructions=INSTRUCTIONS)

    def call(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ExchangeError as exc:
            raise ToolError(exc.message) from None

    @server.tool()
    def balance() -> dict[str, Any]:
        """Your wallet: tokens, earned and spent."""
        return call(lambda: to_json(exchange.balance(agent)))

    @server.tool()
    def limits(model: str = "task:default") -> dict[str, Any]:
        """Your rate limits now: hourly and daily use, burst, reserve, headroom (the largest
        spend allowed now), recent refusals, and for ``model`` (an exchange model or
        task:<type>) the largest max_tokens a request may ask for now."""
        def read() -> dict[str, Any]:
            shown = to_json(exchange.limits(agent))
            quote = exchange.quote(agent, model, 0, None)
            shown["largest_request"] = {"model": quote.model,
                                        "largest_max_tokens": quote.largest_max_tokens}
            return shown
        return call(read)

    @server.tool()
    def history(limit: int = 20) -> dict[str, Any]:
        """Your newest transactions (earnings, spends, gateway requests), newest first."""
        return call(lambda: {"transactions": [to_json(e) for e in
                                              exchange.history(agent, limit)]})

    @server.tool()
    def quote(model: str, input_tokens: int = 0,
              max_output_tokens: int | None = None) -> dict[str, Any]:
        """What a request to ``model`` (or task:<type>) with ``input_tokens`` in and at most
        ``max_output_tokens`` out would reserve now, whether it would pass, and the largest
        max_tokens that fits."""
        return call(lambda: to_json(exchange.quote(agent, model, input_tokens,
                                                   max_output_tokens)))

    @server.tool()
    def spend(task_type: str, token_count: int, model: str | None = None) -> dict[str, Any]:
        """Report inference you used elsewhere: ``token_count`` tokens on ``model`` (default:
        your preferred model for ``task_type``), charged under your limits."""
        return call(lambda: to_json(exchange.llm(agent, task_type, token_count, model)))

    @server.tool()
    def pool_show(pool_id: str) -> dict[str, Any]:
        """A pool's balance, members, contributions and credit shares."""
        return call(lambda: to_json(exchange.pool_show(pool_id)))

    @server.tool()
    def pool_contribute(pool_id: str, amount: str) -> dict[str, Any]:
        """Move ``amount`` tokens (a decimal string) from your wallet into a pool you are a
        member of (your reserve applies)."""
        return call(lambda: to_json(exchange.pool_contribute(pool_id, agent, amount)))

    @server.tool()
    def beads_reward_preview(issue_id: str | None = None, priority: int | None = None,
                             issue_type: str | None = None,
                             labels: list[str] | None = None) -> dict[str, Any]:
        """What closing a beads issue pays: by ``issue_id`` (read from bd or
        .beads/issues.jsonl where the server runs), or by ``priority`` (0-4),
        ``issue_type`` and ``labels``."""
        def preview() -> dict[str, Any]:
            if issue_id is not None:
                if issues is None:
                    raise ToolError("no beads tracker here: give priority and issue_type")
                issue = issues(issue_id)
                found = (issue.priority, issue.issue_type, tuple(issue.labels), issue.title)
            else:
                found = (priority, issue_type, tuple(labels or ()), "")
            reward = rules.issue_reward(exchange.config, priority=found[0],
                                        issue_type=found[1], labels=found[2])
            return {"issue_id": issue_id, "title": found[3], "priority": reward.priority,
                    "reward": format_tokens(tokens(reward.amount)), "reason": reward.reason}
        return call(preview)

    register_market_tools(server, exchange, agent, call)
    return server


__all__ = ["build_server"]
