"""Each command prints what its Exchange method returns: the same record as JSON, the same
refusal with the same exit code, run step for step on two fresh exchanges."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import agent_token_exchange
from agent_token_exchange import SimulatedClock, init_exchange, open_exchange, to_json
from agent_token_exchange.cli import main

# Fields that hold a wall-clock time, or a hash over one: the CLI runs on the system clock,
# so these differ between two exchanges that did the very same things a moment apart.
# (Doctor's audit finding names the chain's head hash in its message.)
TIMED = {"at", "created_at", "dissolved_at", "hash", "head_hash"}
HEAD_IN_TEXT = re.compile(r"head [0-9a-f]{16}…")


def timeless(value: Any) -> Any:
    """``value`` with every time-dependent field left out, at any depth."""
    if isinstance(value, dict):
        return {k: timeless(v) for k, v in value.items() if k not in TIMED}
    if isinstance(value, list):
        return [timeless(v) for v in value]
    if isinstance(value, str):
        return HEAD_IN_TEXT.sub("head …", value)
    return value


def one(value: Any) -> dict[str, Any]:
    """What the CLI prints with --json for a method's record."""
    return {"ok": True, **to_json(value)}


def many(key: str, values: list[Any], **extra: Any) -> dict[str, Any]:
    """What the CLI prints with --json for a method's list of records."""
    return {"ok": True, key: [to_json(v) for v in values], **extra}


def outcome(call: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """A method's result as the CLI's JSON and exit code, or its error as the CLI's."""
    try:
        return call(), 0
    except agent_token_exchange.ExchangeError as error:
        code = (1 if isinstance(error, agent_token_exchange.Refused)
                else 3 if isinstance(error, agent_token_exchange.IntegrityError) else 2)
        return {"ok": False, "error": error.to_dict()}, code


HOTFIX = ("claude@aygp-dr.ai", "nexushive-setup", "hotfix: critical security patch")
SHA = "abc123".ljust(40, "0")  # a full object id
# (command line, the same operation through the Python API), in order: each step runs on
# the state the steps before it left, so writes, refusals and reads are all compared.
MIRRORED: list[tuple[tuple[str, ...], Callable[[Any], dict[str, Any]]]] = [
    (("status",), lambda ex: many("agents", ex.status())),
    (("balance", "zero"), lambda ex: one(ex.balance("zero"))),
    (("commit", *HOTFIX, "--sha", SHA), lambda ex: one(ex.commit(*HOTFIX, sha=SHA))),
    (("commit", "zero@x.io", "misc", "docs: readme"),
     lambda ex: one(ex.commit("zero@x.io", "misc", "docs: readme"))),
    (("commit", "stranger@example.com", "misc", "fix: x"),
     lambda ex: one(ex.commit("stranger@example.com", "misc", "fix: x"))),
    (("llm", "zero", "coding", "5000"), lambda ex: one(ex.llm("zero", "coding", 5000))),
    (("llm", "builder", "planning", "2000", "--model", "claude-opus"),
     lambda ex: one(ex.llm("builder", "planning", 2000, model="claude-opus"))),
    (("llm", "claude", "coding", "44000"), lambda ex: one(ex.llm("claude", "coding", 44000))),
    (("award", "builder", "150.25", "beads", "Closed issue"),
     lambda ex: one(ex.award("builder", "150.25", "beads", "Closed issue"))),
    (("award", "zero", "-5", "beads", "x"), lambda ex: one(ex.award("zero", "-5", "beads", "x"))),
    (("pool", "create", "opus-team", "claude", "100"),
     lambda ex: one(ex.pool_create("opus-team", "claude", "100"))),
    (("pool", "join", "pool-1", "builder"), lambda ex: one(ex.pool_join("pool-1", "builder"))),
    (("pool", "invite", "pool-1", "builder"),
     lambda ex: one(ex.pool_invite("pool-1", "builder"))),
    (("pool", "join", "pool-1", "builder"), lambda ex: one(ex.pool_join("pool-1", "builder"))),
    (("pool", "invite", "pool-1", "zero"), lambda ex: one(ex.pool_invite("pool-1", "zero"))),
    (("pool", "join", "pool-1", "zero"), lambda ex: one(ex.pool_join("pool-1", "zero"))),
    (("pool", "leave", "pool-1", "zero"), lambda ex: one(ex.pool_leave("pool-1", "zero"))),
    (("pool", "leave", "pool-1", "spark"), lambda ex: one(ex.pool_leave("pool-1", "spark"))),
    (("pool", "contribute", "pool-1", "claude", "600"),
     lambda ex: one(ex.pool_contribute("pool-1", "claude", "600"))),
    (("pool", "spend", "pool-1", "claude-opus", "1000", "alone"),
     lambda ex: one(ex.pool_spend("pool-1", "claude-opus", 1000, "alone"))),
    (("pool", "contribute", "pool-1", "builder", "400"),
     lambda ex: one(ex.pool_contribute("pool-1", "builder", "400"))),
    (("pool", "spend", "pool-1", "claude-opus", "10000", "complex analysis"),
     lambda ex: one(ex.pool_spend("pool-1", "claude-opus", 10000, "complex analysis"))),
    (("pool", "spend", "pool-1", "claude-sonnet", "1000", "review", "--agent", "builder"),
     lambda ex: one(ex.pool_spend("pool-1", "claude-sonnet", 1000, "review",
                                  agent="builder"))),
    (("pool", "spend", "pool-1", "claude-sonnet", "1000", "x", "--agent", "zero"),
     lambda ex: one(ex.pool_spend("pool-1", "claude-sonnet", 1000, "x", agent="zero"))),
    (("pool", "show", "pool-1"), lambda ex: one(ex.pool_show("pool-1"))),
    (("pool", "show", "pool-9"), lambda ex: one(ex.pool_show("pool-9"))),
    (("pool", "list"), lambda ex: many("pools", ex.pool_list())),
    (("history", "claude"),
     lambda ex: many("transactions", ex.history("claude"), agent="claude")),
    (("history", "zero", "--limit", "2"),
     lambda ex: many("transactions", ex.history("zero", 2), agent="zero")),
    (("limits", "claude"), lambda ex: one(ex.limits("claude"))),
    (("limits", "nobody"), lambda ex: one(ex.limits("nobody"))),
    (("pool", "dissolve", "pool-1"), lambda ex: one(ex.pool_dissolve("pool-1"))),
    (("pool", "join", "pool-1", "zero"), lambda ex: one(ex.pool_join("pool-1", "zero"))),
    (("status",), lambda ex: many("agents", ex.status())),
    (("doctor",), lambda ex: one(ex.doctor())),
    (("audit", "verify"), lambda ex: one(ex.audit())),
]
# Every command that acts on an exchange through one Exchange method is mirrored above.
COMMANDS_WITH_A_METHOD = {
    "status", "balance", "history", "limits", "llm", "award", "commit", "doctor",
    "audit verify", "pool create", "pool invite", "pool join", "pool contribute", "pool spend",
    "pool leave", "pool show", "pool list", "pool dissolve"}


def command_path(argv: tuple[str, ...]) -> str:
    return " ".join(argv[:2]) if argv[0] in ("pool", "audit") else argv[0]


def test_the_mirror_covers_every_command_with_a_method():
    """Every command that has an Exchange method is among the mirrored steps."""
    assert {command_path(argv) for argv, _ in MIRRORED} == COMMANDS_WITH_A_METHOD


def test_each_command_prints_what_its_method_returns(tmp_path, make_database_url, capsys):
    """Each command's --json output and exit code equal its Exchange method's record (or
    error, beside the CLI's hint), step for step, on two fresh exchanges that do the same
    things."""
    by_cli, by_api = tmp_path / "by-cli", tmp_path / "by-api"
    for home in (by_cli, by_api):
        init_exchange(home, clock=SimulatedClock(), database=make_database_url())
    refused = 0
    for argv, method in MIRRORED:
        capsys.readouterr()
        code = main([*argv, "--json", "--home", str(by_cli)])
        printed = json.loads(capsys.readouterr().out)
        if not printed["ok"]:  # the CLI adds what to do next; the method raises only the error
            printed["error"].pop("hint", None)
        with open_exchange(by_api) as ex:
            expected, expected_code = outcome(lambda ex=ex, method=method: method(ex))
        assert timeless(printed) == timeless(expected), argv
        assert code == expected_code, argv
        refused += not expected["ok"]
    assert refused == 10  # the refusals and bad input in MIRRORED were met, not skipped
