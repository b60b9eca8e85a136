"""The CLI through its real entry point: output, JSON shapes, exit codes, bad input."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent_token_exchange import open_exchange

from .ledger_checks import snapshot, tamper_with_balance

SHA_abc123 = "abc123".ljust(40, "0")  # a full object id


def test_console_scripts_run_as_installed(home):
    """`token-exchange` and `atx` are real console scripts that exit with the right codes."""
    bindir = Path(sys.executable).parent
    for script in ("token-exchange", "atx"):
        exe = shutil.which(script, path=str(bindir)) or shutil.which(script)
        assert exe, f"{script} is not installed"
        ok = subprocess.run([exe, "balance", "zero", "--json", "--home", str(home)],
                            capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0 and '"tokens": "10000"' in ok.stdout
        refused = subprocess.run([exe, "llm", "claude", "coding", "44000", "--home", str(home)],
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1
        assert refused.stderr.splitlines()[0] == "🚫 Exceeds burst limit (660.00 > 500)"


def test_init_creates_config_and_database(tmp_path, cli):
    """init creates the config and ledger, and a second init says it is already initialised."""
    target = tmp_path / "team"
    result = cli("init", "--json", "--home", str(target), with_home=False)
    assert result.code == 0 and result.json["created"] is True
    assert (target / ".exchange" / "config.toml").read_text().startswith("# Agent Token")
    again = cli("init", "--home", str(target), with_home=False)
    assert again.code == 0 and "already initialised" in again.out


def test_home_is_found_walking_up(home, monkeypatch, capsys):
    """The CLI finds the exchange home by walking up from the working directory."""
    from agent_token_exchange.cli import main

    nested = home / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert main(["balance", "zero", "--json"]) == 0
    assert '"agent": "zero"' in capsys.readouterr().out


def test_env_home_is_used(home, monkeypatch, tmp_path, capsys):
    """The CLI uses TOKEN_EXCHANGE_HOME when no home is given or found."""
    from agent_token_exchange.cli import main

    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("TOKEN_EXCHANGE_HOME", str(home))
    assert main(["status", "--json"]) == 0
    assert len(__import__("json").loads(capsys.readouterr().out)["agents"]) == 6


def test_no_exchange_is_a_clear_error(tmp_path, monkeypatch, capsys):
    """With no exchange found, the CLI exits 2 with a one-line error."""
    from agent_token_exchange.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no exchange found") and err.count("\n") == 1


def test_balance_json_shape(cli):
    """balance --json prints the agent's tokens, earned, spent and credit-market net as
    decimal strings."""
    assert cli("balance", "zero", "--json").json == {
        "ok": True, "agent": "zero", "tokens": "10000", "earned": "0", "spent": "0",
        "market": "0"}


def test_commit_llm_award_json_carry_amount_and_tokens(cli):
    """commit, llm and award --json each carry the amount moved and the wallet's new balance."""
    commit = cli("commit", "claude@aygp-dr.ai", "nexushive-setup",
                 "hotfix: critical security patch", "--sha", SHA_abc123, "--json").json
    assert (commit["amount"], commit["tokens"], commit["agent"]) == ("600", "10600", "claude")
    llm = cli("llm", "zero", "coding", "5000", "--json").json
    assert (llm["amount"], llm["tokens"], llm["model"]) == ("0.5", "9999.5", "llama3.2")
    award = cli("award", "builder", "150", "beads", "Closed issue", "--json").json
    assert (award["amount"], award["tokens"]) == ("150", "10150")


def test_pool_commands_json(cli):
    """The pool commands' JSON carries ids, amounts, draws, stakes, members, invitations, a
    leaver's stake and the dissolve refund."""
    created = cli("pool", "create", "opus-team", "claude", "100", "--json").json
    assert created["id"] == "pool-1" and created["open"] is False
    refused = cli("pool", "join", "pool-1", "builder", "--json")
    assert refused.code == 1 and refused.json["error"]["code"] == "not_allowed"
    assert cli("pool", "invite", "pool-1", "builder", "--json").json["invited"] == ["builder"]
    assert cli("pool", "invite", "pool-1", "zero", "--json").code == 0
    assert cli("pool", "join", "pool-1", "builder", "--json").code == 0
    assert cli("pool", "join", "pool-1", "zero", "--json").code == 0
    contributed = cli("pool", "contribute", "pool-1", "claude", "600", "--json").json
    assert (contributed["amount"], contributed["tokens"]) == ("600", "9400")
    cli("pool", "contribute", "pool-1", "builder", "400")
    cli("pool", "contribute", "pool-1", "zero", "100")
    spent = cli("pool", "spend", "pool-1", "claude-opus", "10000", "complex analysis",
                "--agent", "builder", "--json").json
    assert spent["amount"] == "150"
    assert {c["agent"]: (c["stake"], c["credited"]) for c in spent["credits"]} == {
        "claude": ("600", "81.818182"), "builder": ("400", "54.545454"),
        "zero": ("100", "13.636364")}
    left = cli("pool", "leave", "pool-1", "zero", "--json").json
    assert (left["amount"], left["tokens"]) == ("86.363636", "9986.363636")
    shown = cli("pool", "show", "pool-1", "--json").json
    assert shown["balance"] == "863.636364" and len(shown["members"]) == 2
    assert {m["agent"]: m["stake"] for m in shown["members"]} == {
        "claude": "518.181818", "builder": "345.454546"}
    assert "Stake" in cli("pool", "show", "pool-1").out
    assert len(cli("pool", "list", "--json").json["pools"]) == 1
    dissolved = cli("pool", "dissolve", "pool-1", "--json").json
    assert dissolved["amount"] == "863.636364"
    assert cli("pool", "create", "all", "zero", "1", "--open", "--json").json["open"] is True


def test_human_output_has_the_seeds_feel(cli):
    """Human output uses the seed's emoji, wording and two-decimal amounts; a refusal's
    second line names the largest request that would pass, in tokens and inference tokens."""
    ok = cli("llm", "zero", "coding", "5000")
    assert ok.code == 0 and ok.out.startswith("✅ zero used 0.50 tokens on llama3.2")
    refused = cli("llm", "claude", "coding", "44000")
    assert refused.code == 1 and refused.err == (
        "🚫 Exceeds burst limit (660.00 > 500)\n"
        "   The largest request that would pass now costs 500.00 tokens (the burst limit): "
        "33,333 inference tokens on claude-opus; see `token-exchange limits claude`.\n")
    status = cli("status")
    assert "claude" in status.out and "10,000.00" in status.out
    assert "Exceeds burst limit" in cli("limits", "claude").out
    assert "inference" in cli("history", "zero", "--limit", "1").out


def test_refusal_json_and_exit_code(cli):
    """A refusal exits 1 with the JSON error the API answers (code, message and a rate
    limit's figures as decimal token strings), and what to do next as its hint."""
    result = cli("llm", "claude", "coding", "44000", "--json")
    assert result.code == 1
    assert result.json == {"ok": False, "error": {
        "code": "burst_limit", "message": "Exceeds burst limit (660.00 > 500)",
        "kind": "burst", "used": "660", "limit": "500", "needed": "660",
        "hint": "The largest request that would pass now costs 500.00 tokens (the burst "
                "limit): 33,333 inference tokens on claude-opus; see `token-exchange limits "
                "claude`."}}


BAD_INPUTS = [
    ("award", "zero", "-5", "s", "d"),
    ("award", "zero", "0", "s", "d"),
    ("award", "zero", "abc", "s", "d"),
    ("award", "zero", "NaN", "s", "d"),
    ("award", "zero", "1e309", "s", "d"),
    ("award", "zero", "1.0000001", "s", "d"),
    ("award", "zero", "5", "s", ""),
    ("award", "../zero", "5", "s", "d"),
    ("award", "zero'", "5", "s", "d"),
    ("llm", "nobody", "coding", "10"),
    ("llm", "zero", "coding", "-10"),
    ("llm", "zero", "coding", "10", "--model", "gpt-9"),
    ("commit", "zero@x.io", "p", ""),
    ("commit", "nobody@x.io", "p", "fix"),
    ("commit", "zero@x.io", "p", "fix", "--sha", "not-hex"),
    ("pool", "create", "", "claude", "100"),
    ("pool", "contribute", "pool-9", "claude", "100"),
    ("pool", "spend", "pool-x", "claude-opus", "10", "d"),
    ("history", "zero", "--limit", "0"),
    ("llm", "zero"),
    ("frobnicate",),
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=lambda a: " ".join(a))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(cli, home, args):
    """Bad input exits 2 with a one-line error (or JSON error), no traceback, and changes nothing.
    """
    with open_exchange(home) as ex:
        before = snapshot(ex)
    human = cli(*args)
    assert human.code == 2, human
    assert human.err.startswith("error: ") and human.err.count("\n") == 1, human.err
    assert "Traceback" not in human.err + human.out
    machine = cli(*args, "--json")
    assert machine.code == 2 and machine.json["ok"] is False and machine.json["error"]["message"]
    with open_exchange(home) as ex:
        assert snapshot(ex) == before


def test_doctor_clean_and_broken(cli, home):
    """doctor exits 0 on a clean ledger, 3 naming a tampered balance, and --fix rebuilds it clean.
    """
    assert cli("doctor").code == 0
    with open_exchange(home) as ex:
        tamper_with_balance(ex, "agent:zero", 5)
    broken = cli("doctor", "--json")
    assert broken.code == 3 and broken.json["ok"] is False
    assert any(not f["ok"] and "agent:zero" in f["message"] for f in broken.json["findings"])
    fixed = cli("doctor", "--fix")
    assert fixed.code == 0 and "rebuilt" in fixed.out
    assert cli("doctor").code == 0


def test_invalid_config_is_one_line(cli, home):
    """An invalid config value exits 2 with a one-line error naming the field."""
    config = home / ".exchange" / "config.toml"
    config.write_text(config.read_text().replace("hourly = 1000", 'hourly = "lots"'))
    result = cli("status")
    assert result.code == 2
    assert "rate_limits.hourly" in result.err and result.err.count("\n") == 1


@pytest.mark.sqlite_only  # corrupts the SQLite file
def test_corrupt_database_is_an_integrity_error(cli, home):
    """A corrupt SQLite file exits 3 as an integrity problem."""
    (home / ".exchange" / "exchange.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        path = home / ".exchange" / f"exchange.db{suffix}"
        if path.exists():
            os.remove(path)
    result = cli("status")
    assert result.code == 3 and result.err.startswith("integrity problem:")


def test_init_into_a_path_that_is_a_file_is_one_line(cli, tmp_path):
    """init into a path that is a file exits 2 with a one-line cannot-create error."""
    target = tmp_path / "a-file"
    target.write_text("not a directory")
    result = cli("init", "--home", str(target), with_home=False)
    assert result.code == 2 and result.err.startswith("error: cannot create")
    assert result.err.count("\n") == 1


@pytest.mark.sqlite_only
def test_a_database_held_by_another_writer_is_busy_not_corrupt(cli, home, monkeypatch):
    """A lock held past the wait is 'try again' (exit 2), never 'restore from a backup'."""
    import sqlite3

    from agent_token_exchange.ledger import sqlite as sqlite_store

    holder = sqlite3.connect(home / ".exchange" / "exchange.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(sqlite_store.sqlite3, "connect", _short_wait(sqlite3.connect))
    try:
        result = cli("award", "zero", "5", "s", "d")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.code == 2, result
    assert "busy" in result.err and "backup" not in result.err


def _short_wait(connect):
    """The real connect with a 0.2 s lock wait instead of 30 s, so the test is quick."""

    def connect_quickly(*args, **kwargs):
        conn = connect(*args, **{**kwargs, "timeout": 0.2})
        real_execute = conn.execute

        class Quick:
            def __getattr__(self, name):
                return getattr(conn, name)

            def execute(self, sql, *rest):
                if sql.startswith("PRAGMA busy_timeout"):
                    sql = "PRAGMA busy_timeout = 200"
                return real_execute(sql, *rest)

        return Quick()

    return connect_quickly
