"""The same work is paid once, whatever the spelling: a commit is known by its full object
id, an empty commit earns nothing, and a contract pattern cannot stall a matcher
(issue 10, findings 4 to 6)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent_token_exchange import ConfigError, InvalidInput, open_exchange
from agent_token_exchange.economy.config import default_config_text, parse_config_text

from .conftest import set_config
from .gitrepo import GIT_ENV, Repo
from .ledger_checks import assert_invariants

FULL = "3f786850e387550fdab836ed7e6dc881de23001b"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    return Repo(tmp_path / "app")


@pytest.mark.parametrize("prefix", [12, 7, 4, 39])
def test_an_abbreviated_sha_is_refused_and_pays_nothing(exchange, prefix):
    """A SHA shorter than a full object id is bad input, so no spelling of one commit
    pays twice."""
    exchange.commit("claude@aygp-dr.ai", "p", "fix: a", sha=FULL)
    before = exchange.balance("claude").tokens
    with pytest.raises(InvalidInput, match="full 40- or 64-character"):
        exchange.commit("claude@aygp-dr.ai", "p", "fix: a", sha=FULL[:prefix])
    assert exchange.balance("claude").tokens == before
    assert_invariants(exchange)


def test_upper_case_spelling_of_a_full_sha_is_the_same_commit(exchange):
    """Case does not make a new commit: the upper-case full SHA is a replay."""
    first = exchange.commit("claude@aygp-dr.ai", "p", "fix: a", sha=FULL)
    again = exchange.commit("claude@aygp-dr.ai", "p", "fix: a", sha=FULL.upper())
    assert again.seq == first.seq
    assert_invariants(exchange)


def test_the_cli_refuses_a_short_sha_with_one_line(cli):
    """`commit --sha 1a2b3c` exits 2 with one line naming the full id."""
    result = cli("commit", "claude@aygp-dr.ai", "p", "fix: x", "--sha", "1a2b3c")
    assert result.code == 2
    assert "full 40- or 64-character" in result.err
    assert "Traceback" not in result.err


def test_empty_commits_earn_nothing_through_the_hook(repo, home, cli):
    """Five `git commit --allow-empty` earn nothing, and the hook says why."""
    assert cli("hooks", "install", "--repo", str(repo.path)).code == 0
    repo.commit("feat: real work", author="claude@aygp-dr.ai")
    with open_exchange(home) as ex:
        paid_once = ex.balance("claude").tokens
    for _ in range(5):
        done = repo.git("commit", "--allow-empty", "-m", "hotfix: critical security",
                        "--author", "claude <claude@aygp-dr.ai>")
        assert done.returncode == 0
        assert "changes nothing" in done.stderr
    with open_exchange(home) as ex:
        assert ex.balance("claude").tokens == paid_once
        assert_invariants(ex)


def test_backfill_counts_empty_commits_apart(repo, home, cli):
    """A backfill passes over empty commits and counts them as empty."""
    repo.commit("feat: real work", author="claude@aygp-dr.ai")
    repo.git("commit", "--allow-empty", "-m", "fix: nothing", "--author",
             "claude <claude@aygp-dr.ai>")
    result = cli("git", "backfill", "--repo", str(repo.path), "--json")
    assert result.code == 0, result.err
    assert result.json["paid"] == 1 and result.json["empty"] == 1


def test_a_backtracking_pattern_matches_in_linear_time(home):
    """`(a+)+$` against 28 a's and a `!` answers at once (RE2), where a backtracking
    engine takes seconds."""
    set_config(home, lambda text: text.replace(
        'pattern = "nexushive-setup"', 'pattern = "(a+)+$"', 1))
    with open_exchange(home) as ex:
        started = time.perf_counter()
        preview = ex.preview_commit("claude", "a" * 28 + "!", "fix: x")
        assert time.perf_counter() - started < 1.0
        assert preview.contract == "default"


def test_a_pattern_re2_cannot_take_is_a_config_error():
    """A look-behind cannot run in linear time: the config names the key and says why."""
    text = default_config_text().replace('pattern = "nexushive-setup"',
                                         'pattern = "(?<=x)nexushive"', 1)
    with pytest.raises(ConfigError, match="RE2"):
        parse_config_text(text)


def test_project_names_are_bounded(exchange):
    """A project name past 200 characters is bad input, before any pattern runs."""
    with pytest.raises(InvalidInput, match="project is too long"):
        exchange.commit("claude@aygp-dr.ai", "p" * 201, "fix: a", sha=FULL)
