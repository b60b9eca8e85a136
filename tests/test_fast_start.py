"""Fast start: the package imports lazily, and the post-commit hook's path loads nothing
heavy (no pydantic, typer, rich or matplotlib), reading the config from its validated
cache, which always says exactly what pydantic accepted for the file's bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import agent_token_exchange
from agent_token_exchange import open_exchange
from agent_token_exchange.economy.config import load_config
from agent_token_exchange.economy.config_cache import CACHE_NAME, LightModel, load_fast
from agent_token_exchange.errors import ConfigError
from tests.gitrepo import GIT_ENV, Repo

HEAVY = ("pydantic", "typer", "rich", "matplotlib", "fastapi", "httpx")
SRC = str(Path(agent_token_exchange.__file__).resolve().parents[1])


# What a commit does not use, so the hook must not load it (each module costs import time on
# every commit): the dump, the other repositories and services, other concepts' records and
# rules, backfill and the hook-file editor.
NOT_FOR_A_COMMIT = tuple(f"agent_token_exchange.{name}" for name in (
    "ledger.dump", "ledger.pools", "ledger.loans", "ledger.governance", "ledger.reservations",
    "ledger.refusals", "ledger.credentials", "ledger.windows",
    "service.queries", "service.api_keys", "service.pools", "service.loans",
    "service.governance", "service.spending", "service.metering",
    "economy.pool_records", "economy.wallet_records", "economy.check_records",
    "economy.event_records", "economy.reward_records", "economy.issue_rules",
    "economy.governance", "economy.config", "integrations.backfill", "integrations.githooks",
))


def _modules_after(code: str) -> set[str]:
    """Every module a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**GIT_ENV, "PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.splitlines()[-1]))


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level packages a fresh interpreter holds after running ``code``."""
    return sorted({m.split(".")[0] for m in _modules_after(code)} & set(HEAVY))


def _hook_code(repo: Repo, home: Path) -> str:
    """Python that runs the hook as git would (``__main__``'s fast path) in ``repo``."""
    return (f"from agent_token_exchange.__main__ import run\n"
            f"import os; os.chdir({str(repo.path)!r})\n"
            f"assert run(['hook', 'post-commit', '--home', {str(home)!r}]) == 0")


def test_importing_the_package_loads_nothing_heavy():
    """``import agent_token_exchange`` loads none of pydantic, typer, rich, matplotlib."""
    assert _loaded_after("import agent_token_exchange") == []


def test_the_hook_path_loads_nothing_heavy_even_while_it_pays(home, tmp_path):
    """The post-commit hook's whole path (``__main__``'s fast path into
    integrations.commits, paying a real commit) never imports pydantic, typer, rich or
    matplotlib when the config's cache is current."""
    repo = Repo(tmp_path / "repo")
    repo.commit("feat: a parser")
    assert _loaded_after(_hook_code(repo, home)) == []
    with open_exchange(home) as ex:
        assert ex.commit_paid(repo.head())


def test_paying_a_commit_loads_only_what_a_commit_uses(home, tmp_path):
    """The hook pays a real commit (futures delivery and governance's parameters looked
    at on the way) without loading the dump, the other repositories, services, records
    and rules, or backfill: lazy imports keep each commit's start short."""
    repo = Repo(tmp_path / "repo")
    repo.commit("feat: a parser")
    loaded = _modules_after(_hook_code(repo, home))
    assert sorted(loaded & set(NOT_FOR_A_COMMIT)) == []
    assert {"agent_token_exchange.service.future_delivery", "agent_token_exchange.ledger.futures",
            "agent_token_exchange.ledger.parameter_changes"} <= loaded
    with open_exchange(home) as ex:
        assert ex.commit_paid(repo.head())


def test_public_names_resolve_lazily_and_unknown_names_do_not():
    """Every name in ``__all__`` resolves on first use and ``dir()`` lists them all; an
    unknown name is an AttributeError."""
    assert set(agent_token_exchange.__all__) <= set(dir(agent_token_exchange))
    assert agent_token_exchange.Exchange.__name__ == "Exchange"
    with pytest.raises(AttributeError):
        agent_token_exchange.NoSuchThing  # noqa: B018


def test_the_cached_config_equals_the_validated_one(home):
    """The light config read from the cache has the validated values (Decimals exact,
    defaults filled in) and the same resolved limits as the pydantic model."""
    config_path = home / ".exchange" / "config.toml"
    full = load_config(config_path)
    light = load_fast(config_path)
    assert isinstance(light, LightModel)
    assert light.start_balance == full.start_balance and isinstance(light.start_balance, Decimal)
    assert light.agents.keys() == full.agents.keys()
    assert light.agents["claude"].emails == full.agents["claude"].emails
    assert light.pools.min_members == full.pools.min_members
    assert light.git.pay_merge_commits == full.git.pay_merge_commits
    assert [c.pattern for c in light.contracts] == [c.pattern for c in full.contracts]
    for agent in full.agents:
        assert light.limits_for(agent) == full.limits_for(agent)


def test_an_edited_config_is_validated_again_not_read_from_a_stale_cache(home):
    """After config.toml changes, the cache no longer matches: an invalid edit is the
    same one-line ConfigError pydantic gives, and a valid one is what the hook reads."""
    config_path = home / ".exchange" / "config.toml"
    load_config(config_path)
    text = config_path.read_text()
    config_path.write_text(text.replace("start_balance = 10000", "start_balance = -5"))
    with pytest.raises(ConfigError, match="start_balance"):
        load_fast(config_path)
    config_path.write_text(text.replace("start_balance = 10000", "start_balance = 123"))
    assert load_fast(config_path).start_balance == Decimal(123)
    cached = json.loads((config_path.parent / CACHE_NAME).read_text())
    assert cached["config"]["fields"]["start_balance"] == {"$decimal": "123"}


def test_a_tampered_cache_is_not_trusted(home):
    """A cache whose key does not match the file's bytes is ignored and rewritten."""
    config_path = home / ".exchange" / "config.toml"
    load_config(config_path)
    cache = config_path.parent / CACHE_NAME
    data = json.loads(cache.read_text())
    data["key"] = "0" * 64
    data["config"]["fields"]["start_balance"] = {"$decimal": "999999"}
    cache.write_text(json.dumps(data))
    assert load_fast(config_path).start_balance == Decimal(10000)
    assert json.loads(cache.read_text())["key"] != "0" * 64
