"""`token-exchange future …` on both stores: each command's reply and --json, one-line
errors with their exit codes, and futures delivered by the work itself through the real
paths: `token-exchange bd close` (bd on PATH answering with the beads project's own
export) and a `git commit` in a real repository running the post-commit hook."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from agent_token_exchange import open_exchange

from .gitrepo import GIT_ENV, Repo
from .ledger_checks import assert_invariants
from .test_beads import EXPORT, STUB


def invariants_hold(home: Path) -> None:
    with open_exchange(home) as ex:
        assert_invariants(ex)


def test_open_accept_confirm_show_and_list(cli, home):
    """A manual future through the CLI: each write says what happened, --json is the
    record, and list and show read it back."""
    opened = cli("future", "open", "claude", "manual", "--price", "300", "--collateral", "100",
                 "--by", "24h")
    assert opened.code == 0, opened.err
    assert "claude opened future-1: 300.00 escrowed for manual by " in opened.out
    accepted = cli("future", "accept", "future-1", "builder", "--json")
    assert accepted.code == 0 and accepted.json["status"] == "accepted"
    assert accepted.json["seller"] == "builder" and accepted.json["escrow"] == "100"
    confirmed = cli("future", "confirm", "future-1")
    assert "claude confirmed future-1: 100.00 collateral returned to builder" in confirmed.out
    listed = cli("future", "list", "--agent", "builder", "--json").json
    assert [(f["id"], f["status"]) for f in listed["futures"]] == [("future-1", "delivered")]
    table = cli("future", "list")
    assert "future-1" in table.out and "deliver" in table.out
    shown = cli("future", "show", "future-1")
    assert "future-1 — manual for claude, delivered" in shown.out
    assert "confirmed by claude" in shown.out
    invariants_hold(home)


def test_cancel_named_seller_and_a_replayed_key(cli, home):
    """--seller offers a future to one agent; cancel refunds it; the same
    --idempotency-key again changes nothing and says so."""
    args = ("future", "open", "claude", "bd:bd-0479m", "--price", "50", "--collateral", "5",
            "--by", "2d", "--seller", "zero", "--idempotency-key", "open-1")
    assert "for zero only" in cli(*args).out
    again = cli(*args)
    assert again.code == 0 and "Already done; nothing changed (future-1 is open)" in again.out
    refused = cli("future", "accept", "future-1", "builder")
    assert refused.code == 1 and refused.err.strip().endswith("future-1 is offered to zero only")
    assert len(refused.err.strip().splitlines()) == 1
    cancelled = cli("future", "cancel", "future-1", "--json")
    assert cancelled.json["status"] == "cancelled" and cancelled.json["escrow"] == "0"
    with open_exchange(home) as ex:
        assert ex.balance("claude").tokens == 10_000
    invariants_hold(home)


@pytest.mark.parametrize(("args", "message"), [
    (("open", "claude", "wrk", "--price", "1", "--collateral", "1", "--by", "1h"),
     "work must be bd:<issue id>, commit:<project pattern> or manual"),
    (("open", "claude", "commit:(?!x)", "--price", "1", "--collateral", "1", "--by", "1h"),
     "not a valid linear-time (RE2) regular expression"),
    (("open", "claude", "manual", "--price", "1", "--collateral", "1", "--by", "soon"),
     "deadline must be a positive duration"),
    (("open", "claude", "manual", "--price", "-1", "--collateral", "1", "--by", "1h"),
     "price must be positive"),
    (("accept", "future-7", "builder"), "unknown future 'future-7'"),
    (("show", "loan-1"), "future id must look like future-1"),
])
def test_bad_input_is_one_line_and_exit_2(cli, home, args, message):
    """Each mistake is one line on stderr and exit code 2, and --json says the same."""
    result = cli("future", *args)
    assert result.code == 2, result.out
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    as_json = cli("future", *args, "--json")
    assert as_json.json["ok"] is False and message in as_json.json["error"]["message"]


# -- delivered by a real `bd close` -------------------------------------------------------------


@pytest.fixture
def bd_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bd on PATH answering from (and closing in) a copy of the beads project's export."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "bd"
    stub.write_text(f"#!{sys.executable}\n{STUB}")
    stub.chmod(0o755)
    state = tmp_path / "bd-state.jsonl"
    state.write_text(EXPORT.read_text())
    monkeypatch.setenv("BD_STUB_LOG", str(tmp_path / "bd-calls.jsonl"))
    monkeypatch.setenv("BD_STUB_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("TOKEN_EXCHANGE_AGENT", raising=False)


def test_bd_close_pays_the_seller_and_delivers_its_future(cli, home, bd_on_path):
    """builder buys bd-0479m from claude; `bd close bd-0479m --agent claude` closes the
    issue, pays claude its reward and, in the same write, returns claude's collateral."""
    cli("future", "open", "builder", "bd:bd-0479m", "--price", "300", "--collateral", "100",
        "--by", "24h")
    cli("future", "accept", "future-1", "claude")
    closed = cli("bd", "close", "bd-0479m", "--reason", "Implemented", "--agent", "claude",
                 "--json")
    assert closed.code == 0, closed.err
    assert closed.json["amount"] == "120"  # P3 task
    future = cli("future", "show", "future-1", "--json").json
    assert future["status"] == "delivered" and future["escrow"] == "0"
    assert future["proof"] == "issue bd-0479m paid to claude"
    with open_exchange(home) as ex:
        assert ex.balance("claude").tokens == 10_000 - 100 + 300 + 120 + 100
    invariants_hold(home)


# -- delivered by a commit through the git hook ------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    return Repo(tmp_path / "app")


def test_a_commit_through_the_hook_delivers_the_authors_commit_future(cli, home, repo):
    """builder buys a commit to app or api from claude; a real `git commit` by claude in
    app runs the hook, which pays the commit and returns the collateral; a commit by
    another author before it delivered nothing."""
    cli("future", "open", "builder", "commit:app|api", "--price", "300", "--collateral",
        "100", "--by", "1d")
    cli("future", "accept", "future-1", "claude")
    cli("hooks", "install", "--repo", str(repo.path))
    repo.commit("feat: zero's work", author="zero@aygp-dr.ai")
    assert cli("future", "show", "future-1", "--json").json["status"] == "accepted"
    done = repo.commit("fix: the parser")
    assert "claude earned 225.00 tokens" in done.stderr
    future = cli("future", "show", "future-1", "--json").json
    assert future["status"] == "delivered"
    assert future["proof"] == f"commit {repo.head()[:12]} to app paid to claude"
    with open_exchange(home) as ex:
        assert ex.balance("claude").tokens == 10_000 - 100 + 300 + 225 + 100
    invariants_hold(home)
