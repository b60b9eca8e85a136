"""What a new user meets first: honest replies to replays, typos refused or explained,
help that says what each argument is, refusals that say what to do, one number and time
format, and the usual command-line manners (--version, completion, usage exits 2)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from agent_token_exchange.cli import main

SHA = "0123456789abcdef0123456789abcdef01234567"
ENTRY = "from agent_token_exchange.cli import main; main()"


def test_a_replayed_commit_says_already_paid_with_the_balance_now(cli):
    """The same --sha again says it was already paid (not "earned"), shows the balance as it
    is now, and its JSON says "replayed": true; a first payment says "replayed": false."""
    first = cli("commit", "claude@aygp-dr.ai", "nexushive-setup", "fix: parser", "--sha", SHA,
                "--json").json
    assert first["replayed"] is False and first["tokens"] == "10450"
    cli("llm", "claude", "coding", "20000")  # 300 tokens: the balance moves on
    again = cli("commit", "claude@aygp-dr.ai", "nexushive-setup", "fix: parser", "--sha", SHA)
    assert again.code == 0
    assert again.out.startswith("🔁 Already paid for commit 0123456789ab to nexushive-setup: "
                                "claude earned 450.00 tokens for it; nothing paid again "
                                "(balance 10,150.00)")
    assert "earned 450.00 tokens for commit" not in again.out
    replay = cli("commit", "claude@aygp-dr.ai", "nexushive-setup", "fix: parser", "--sha", SHA,
                 "--json").json
    assert replay == {**first, "replayed": True, "tokens": "10150"}


def test_a_reused_sha_with_another_message_is_refused_in_plain_words(cli):
    """A SHA already paid, sent with another message, exits 2 naming the commit and what it
    was paid for, without jargon about idempotency keys, and changes nothing."""
    cli("commit", "claude@aygp-dr.ai", "nexushive-setup", "fix: parser", "--sha", SHA)
    result = cli("commit", "claude@aygp-dr.ai", "nexushive-setup", "feat: other", "--sha", SHA)
    assert result.code == 2
    assert result.err.startswith("error: commit 0123456789ab… was already paid: 450.00 tokens "
                                 "to claude for 'fix: parser' in nexushive-setup;")
    assert "idempotency" not in result.err
    assert cli("balance", "claude", "--json").json["tokens"] == "10450"


def test_every_write_replays_under_an_idempotency_key(cli):
    """llm, award and each pool write (invite and leave too) take --idempotency-key: the
    second run changes nothing, says "Already …" and reports "replayed": true in JSON."""
    writes = [
        ("llm", "zero", "coding", "5000"),
        ("award", "builder", "150", "beads", "Closed issue"),
        ("pool", "create", "opus-team", "claude", "100"),
        ("pool", "invite", "pool-1", "builder"),
        ("pool", "join", "pool-1", "builder"),
        ("pool", "contribute", "pool-1", "claude", "600"),
        ("pool", "contribute", "pool-1", "builder", "400"),
        ("pool", "spend", "pool-1", "claude-opus", "10000", "complex analysis"),
        ("pool", "invite", "pool-1", "zero"),
        ("pool", "join", "pool-1", "zero"),
        ("pool", "leave", "pool-1", "zero"),
        ("pool", "dissolve", "pool-1"),
    ]
    for number, write in enumerate(writes):
        key = ("--idempotency-key", f"job-{number}")
        first = cli(*write, *key, "--json")
        assert first.code == 0 and first.json["replayed"] is False, (write, first.err)
        before = cli("status", "--json").json
        again = cli(*write, *key)
        assert again.code == 0 and again.out.startswith("🔁 Already "), (write, again.out)
        assert cli(*write, *key, "--json").json["replayed"] is True
        assert cli("status", "--json").json == before, write


def test_revoking_a_key_twice_says_it_was_already_revoked(cli):
    """keys revoke on a revoked key exits 0, says it was already revoked and when, and its
    JSON says "replayed": true."""
    key_id = cli("keys", "create", "zero", "--json").json["key_id"]
    first = cli("keys", "revoke", key_id)
    assert first.out.startswith(f"✅ Revoked key {key_id}")
    again = cli("keys", "revoke", key_id)
    assert again.code == 0
    iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.match(rf"🔁 Key {key_id} was already revoked \(at {iso}\)", again.out)
    assert cli("keys", "revoke", key_id, "--json").json["replayed"] is True


def test_keys_create_prints_only_the_key_on_stdout(cli):
    """`KEY=$(token-exchange keys create --admin)` keeps just the key: stdout is the key alone,
    the explanation (with the dashboard's #key= login) goes to stderr."""
    result = cli("keys", "create", "--admin")
    assert re.fullmatch(r"atx_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n", result.out)
    assert "#key=" in result.err


def test_an_export_for_an_unknown_agent_is_refused_listing_the_known(cli, tmp_path):
    """export --agent claud (a typo) exits 2 naming the known agents and writes nothing."""
    out = tmp_path / "claud.json"
    result = cli("export", "--agent", "claud", "--out", str(out))
    assert result.code == 2
    assert result.err.startswith("error: unknown agent 'claud'")
    assert "claude, builder" in result.err
    assert not out.exists()
    assert cli("export", "--agent", "claude", "--out", str(out)).code == 0


def test_a_task_type_without_a_model_says_which_model_was_used_and_why(cli):
    """llm with a task type the agent has no model for uses its primary LLM (as the seed
    does) and says so, listing the task types it has a model for; JSON carries it as note."""
    result = cli("llm", "zero", "cooking", "5000")
    assert result.code == 0
    assert ("zero has no model for task type 'cooking', so its primary model llama3.2 was "
            "used (task types with a model: coding, planning, analysis)") in result.out
    assert "primary model" in cli("llm", "zero", "cooking", "5000", "--json").json["note"]
    assert cli("llm", "zero", "coding", "5000", "--json").json["note"] == ""


def test_a_commit_to_an_unknown_project_says_the_default_contract_paid(cli):
    """A project no contract matches is paid from the default contract, and the reply says
    so."""
    result = cli("commit", "zero@x.io", "no-such-project", "fix: a")
    assert result.code == 0
    assert "no contract matches project 'no-such-project', so the default contract paid" \
        in result.out
    assert "default contract" not in cli("commit", "zero@x.io", "nexushive-setup", "fix: b").out


def test_a_burst_refusal_names_the_largest_request_that_would_pass(cli):
    """A refused request's second line names the largest that would pass now, in exchange
    tokens and in inference tokens of the model that would be used, and which limit sets
    it; when too little is left for one inference token, it says nothing would pass."""
    refused = cli("llm", "claude", "coding", "44000")
    assert refused.code == 1
    hint = refused.err.splitlines()[1]
    assert hint.strip() == ("The largest request that would pass now costs 500.00 tokens "
                            "(the burst limit): 33,333 inference tokens on claude-opus; see "
                            "`token-exchange limits claude`.")
    assert cli("llm", "claude", "coding", "33333").code == 0  # it does pass: 499.995
    assert cli("llm", "claude", "coding", "16000").code == 0  # 240: 739.995 this hour
    refused = cli("llm", "claude", "coding", "20000")
    assert "costs 260.005 tokens (the hourly limit): 17,333 inference tokens" in refused.err
    assert cli("llm", "claude", "coding", "17334").code == 1  # one more token: 260.01
    assert cli("llm", "claude", "coding", "17333").code == 0  # 259.995: 0.01 left
    refused = cli("llm", "claude", "coding", "1000")
    assert ("No request on claude-opus would pass now: 0.01 tokens left (the hourly limit)"
            in refused.err)


def test_limits_shows_the_reserve_as_kept_back_not_as_a_use(cli):
    """The reserve row reads as what is kept back, with what is left above it, not as
    "Used 10,000 / Allowed 500"; the headroom line names the limit that sets it."""
    out = cli("limits", "claude").out
    row = next(line for line in out.splitlines() if "reserve" in line)
    assert "500.00 kept" in row and "9,500.00" in row and "10,000.00" not in row
    assert "Largest spend allowed now: 500.00 tokens (set by the burst limit)" in out


def test_times_are_iso_utc_and_counts_are_pluralised(cli):
    """history shows ISO-8601 UTC times with Z and says "last 1 transaction"."""
    out = cli("history", "zero", "--limit", "1").out
    assert "zero: last 1 transaction" in out and "transactions" not in out
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out)


def test_help_describes_every_argument_without_type_noise(cli):
    """llm --help describes each argument, shows the token count as a number, lists the
    seed's task types, offers --server/--api-key and shows no <bool>; serve --help offers
    no --json."""
    help_text = re.sub(r"[\s│]+", " ", cli("llm", "--help", with_home=False).out)
    assert "<bool>" not in help_text and "<str>" not in help_text
    assert "TOKEN_COUNT <int>" in help_text
    assert "coding, planning, analysis, reasoning, chat, docs" in help_text
    assert "--server" in help_text and "--api-key" in help_text
    assert "--json" not in cli("serve", "--help", with_home=False).out


def test_version_completion_and_a_bare_command_exit_as_usual(capsys):
    """--version prints the version, --show-completion prints a completion script, and a
    bare `token-exchange` (or a bare group) prints the usage and exits 2."""
    assert main(["--version"]) == 0
    assert re.fullmatch(r"token-exchange \S+\n", capsys.readouterr().out)
    assert main([]) == 2
    assert "Usage: token-exchange" in capsys.readouterr().out
    assert main(["pool"]) == 2
    env = {**os.environ, "SHELL": "/bin/bash"}
    shown = subprocess.run([sys.executable, "-c", ENTRY, "--show-completion", "bash"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0 and "complete" in shown.stdout, shown.stderr


def test_refusals_are_coloured_on_a_terminal_unless_no_color(home):
    """A refusal is coloured when colour is forced (as on a terminal) and plain under
    NO_COLOR."""
    argv = [sys.executable, "-c", ENTRY, "llm", "claude", "coding", "44000", "--home", str(home)]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              env={**env, "FORCE_COLOR": "1"})
    assert coloured.returncode == 1 and "\x1b[1;33m" in coloured.stderr
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.returncode == 1 and not re.search(r"\x1b\[[0-9;]*3\dm", plain.stderr)
