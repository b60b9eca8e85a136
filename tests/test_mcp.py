"""The MCP server, driven by the official ``mcp`` client over stdio as an MCP client
(Claude Code, an IDE) would start it: every tool, on the local exchange and over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from agent_token_exchange import open_exchange
from agent_token_exchange.server.app import create_app

from .standin_provider import ServerThread

TOOLS = {"balance", "limits", "history", "quote", "spend", "pool_show", "pool_contribute",
         "beads_reward_preview"}


def run_tools(args: list[str], calls: list[tuple[str, dict[str, Any]]],
              cwd: Path) -> tuple[set[str], list[Any]]:
    """Start `token-exchange mcp ARGS` on stdio, list its tools, make ``calls``; returns
    the tool names and each call's JSON (or ``("error", text)``)."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent_token_exchange", "mcp", *args],
        env={"PYTHONPATH": os.pathsep.join(sys.path), "TOKEN_EXCHANGE_TEST_PG": "off"},
        cwd=str(cwd))

    async def session() -> tuple[set[str], list[Any]]:
        async with Client(params, read_timeout_seconds=60) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            answers = []
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                text = result.content[0].text if result.content else ""
                answers.append(("error", text) if result.is_error else json.loads(text))
            return names, answers

    return asyncio.run(session())


def test_every_tool_on_the_local_exchange(home: Path, tmp_path: Path):
    """`mcp --agent zero` offers the tools; balance, quote, spend, history, limits, pool
    show and contribute and the beads preview answer with the records' JSON, and a
    refusal is a tool error with the exchange's message."""
    with open_exchange(home) as ex:
        pool = ex.pool_create("shared", "zero", "5")
    beads = tmp_path / ".beads"
    beads.mkdir()
    (beads / "issues.jsonl").write_text(json.dumps({
        "id": "bd-7", "title": "Fix the login", "status": "open", "priority": 1,
        "issue_type": "bug", "labels": ["security"]}) + "\n")
    names, answers = run_tools(["--agent", "zero", "--home", str(home)], [
        ("balance", {}),
        ("quote", {"model": "task:coding", "input_tokens": 1000, "max_output_tokens": 1000}),
        ("spend", {"task_type": "coding", "token_count": 5000}),
        ("history", {"limit": 1}),
        ("limits", {}),
        ("pool_contribute", {"pool_id": pool.id, "amount": "7.5"}),
        ("pool_show", {"pool_id": pool.id}),
        ("beads_reward_preview", {"issue_id": "bd-7"}),
        ("beads_reward_preview", {"priority": 2, "issue_type": "task"}),
        ("spend", {"task_type": "coding", "token_count": 10_000_000}),
    ], cwd=tmp_path)
    assert names >= TOOLS
    balance, quote, spend, history, limits, contribution, shown, bd7, task, refused = answers
    assert balance == {"agent": "zero", "tokens": "10000", "earned": "0", "spent": "0",
                       "market": "0"}
    assert (quote["model"], quote["cost"], quote["allowed"]) == ("llama3.2", "0.2", True)
    assert (spend["model"], spend["amount"]) == ("llama3.2", "0.5")
    assert history["transactions"][0]["amount"] == "-0.5"
    assert limits["largest_request"]["model"] == "llama3.2"
    assert limits["largest_request"]["largest_max_tokens"] > 1_000_000
    assert contribution["pool_balance"] == "7.5" and shown["balance"] == "7.5"
    assert bd7["reward"] == "1000" and "security" in bd7["reason"]  # P1 500 × security 2.0
    assert task["reward"] == "240"  # P2 300 × task 0.8
    assert refused[0] == "error" and "Exceeds burst limit" in refused[1]
    with open_exchange(home) as ex:
        assert ex.balance("zero").tokens == Decimal("9992")


def test_the_tools_act_as_the_api_keys_agent_over_http(home: Path, clock, tmp_path: Path):
    """`mcp --server URL --api-key KEY` acts as the key's agent: its spend lands in that
    agent's wallet on the served exchange."""
    with open_exchange(home, clock=clock) as ex:
        key = ex.keys.create(agent="spark").key
    with ServerThread(create_app(home, clock=clock)) as server:
        _, answers = run_tools(["--server", server.url, "--api-key", key], [
            ("spend", {"task_type": "chat", "token_count": 2000}),
            ("balance", {}),
            ("quote", {"model": "claude-sonnet", "input_tokens": 100}),
        ], cwd=tmp_path)
    spend, balance, quote = answers
    assert (spend["agent"], spend["model"], spend["amount"]) == ("spark", "llama3.2", "0.2")
    assert balance["tokens"] == "9999.8"
    assert quote["max_output_tokens"] == 4096 and quote["allowed"] is True


@pytest.mark.sqlite_only
def test_mcp_without_an_agent_is_one_line(cli):
    """`mcp` with no agent named says so in one line and exits 2, before serving."""
    result = cli("mcp")
    assert result.code == 2 and "--agent NAME" in result.err
