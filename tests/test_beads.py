"""The beads (bd) integration against the beads project's own export (485 issues):
reading every line, the reward rulings, who is paid, paying once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agent_token_exchange import open_exchange

from .conftest import set_config
from .ledger_checks import assert_invariants

EXPORT = Path(__file__).parent / "data" / "beads" / "steveyegge-beads-051aeb0a.jsonl"
RECORDS = [json.loads(line) for line in EXPORT.read_text().splitlines() if line.strip()]
BY_ID = {r["id"]: r for r in RECORDS}


@pytest.fixture(autouse=True)
def no_bd_and_no_agent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests choose whether a bd is on PATH; by default none is."""
    monkeypatch.setenv("PATH", os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep)
        if not (Path(p) / "bd").exists()))
    monkeypatch.delenv("TOKEN_EXCHANGE_AGENT", raising=False)
    monkeypatch.delenv("BEADS_DIR", raising=False)


def with_aliases(home: Path) -> None:
    """Map two of the export's assignees to agents, as a team would in config.toml."""
    set_config(home, lambda text: text.replace(
        '[agents.builder]\nlevel = 6\nbase_rate = 120\nprimary_llm = "qwen2.5-coder"\n'
        'emails = []\naliases = []',
        '[agents.builder]\nlevel = 6\nbase_rate = 120\nprimary_llm = "qwen2.5-coder"\n'
        'emails = []\naliases = ["beads/crew/dave", "beads/crew/fang"]'))


def wallet_earned(home: Path) -> dict[str, Decimal]:
    with open_exchange(home) as ex:
        assert_invariants(ex)
        return {a: ex.balance(a).earned for a in ex.agents()}


def test_rewards_table(cli):
    """bd rewards shows the priority rewards, type multipliers and no-reward types, and a P2 bug's
    450.00."""
    result = cli("bd", "rewards", "--json")
    assert result.json["priority_rewards"]["P2"] == "300"
    assert result.json["type_multipliers"]["security"] == "2.0"
    assert "molecule" in result.json["no_reward_types"]
    table = cli("bd", "rewards")
    assert "450.00" in table.out  # P2 bug


def test_preview_all_reads_every_line(cli, home):
    """preview-all reads all 485 lines of the real export, previews every open issue and totals
    rewards per assignee."""
    with_aliases(home)
    result = cli("bd", "preview-all", "--beads", str(EXPORT), "--json").json
    open_ids = {r["id"] for r in RECORDS if r["status"] not in ("closed", "tombstone")}
    assert result["lines"] == len(RECORDS) == 485
    assert result["issues_read"] == 485
    assert {p["issue"]["id"] for p in result["issues"]} == open_ids
    dave = next(t for t in result["totals"] if t["assignee"] == "beads/crew/dave")
    assert dave["agent"] == "builder"
    expected_total = sum(_amount(p["reward"]) for p in result["issues"])
    assert _amount(result["total"]) == expected_total > 0
    assert sum(_amount(t["reward"]) for t in result["totals"]) == expected_total


def test_preview_of_a_real_bug_and_who_is_paid(cli, home, monkeypatch):
    """A P2 bug previews at 450, paid to --agent, else TOKEN_EXCHANGE_AGENT, else nobody; an unknown
    agent is exit 2."""
    bug = next(r for r in RECORDS if r["issue_type"] == "bug" and r["priority"] == 2
               and not r.get("assignee") and r["status"] == "open")
    nobody = cli("bd", "preview", bug["id"], "--beads", str(EXPORT), "--json").json
    assert nobody["reward"] == "450" and nobody["agent"] is None
    assert nobody["reason"] == "P2 300 × bug 1.5"
    named = cli("bd", "preview", bug["id"], "--agent", "spark", "--beads", str(EXPORT), "--json")
    assert named.json["agent"] == "spark"
    monkeypatch.setenv("TOKEN_EXCHANGE_AGENT", "lambda")
    from_env = cli("bd", "preview", bug["id"], "--beads", str(EXPORT), "--json")
    assert from_env.json["agent"] == "lambda"
    unknown = cli("bd", "preview", bug["id"], "--agent", "mallory", "--beads", str(EXPORT))
    assert unknown.code == 2 and "unknown agent 'mallory'" in unknown.err


def test_infrastructure_types_and_failed_closes_earn_nothing(cli, home):
    """Duplicates and molecule, agent and gate issues preview and pay 0 with the reason stated."""
    for issue_id, why in [("bd-r0b2", "closed as 'duplicate'"),
                          ("bd-lmbzt", "molecule issues earn nothing"),
                          ("bd-beads-polecat-onyx", "agent issues earn nothing"),
                          ("bd-mol-bzx", "gate issues earn nothing")]:
        view = cli("bd", "preview", issue_id, "--agent", "zero", "--beads", str(EXPORT),
                   "--json").json
        assert view["reward"] == "0" and why in view["reason"], issue_id
    paid = cli("bd", "close", "bd-r0b2", "--agent", "zero", "--beads", str(EXPORT), "--json")
    assert paid.code == 0 and paid.json["amount"] == "0"
    assert wallet_earned(home)["zero"] == 0


def test_sync_twice_pays_once(cli, home):
    """Syncing the export again pays no closed issue twice, even under another --agent."""
    with_aliases(home)
    first = cli("bd", "sync", "--beads", str(EXPORT), "--json").json
    closed = [r for r in RECORDS if r["status"] == "closed"]
    assigned = [r for r in closed if r.get("assignee") in ("beads/crew/dave", "beads/crew/fang")]
    assert first["closed"] == len(closed) == 360
    assert first["paid"] + first["zero"] == len(assigned)
    assert first["no_agent"] == len(closed) - len(assigned)
    earned = wallet_earned(home)["builder"]
    assert earned == sum(_amount(p["amount"]) for p in first["payments"]) > 0
    # everyone else's closed issues go to --agent; the builder's are already settled
    second = cli("bd", "sync", "--agent", "observer", "--beads", str(EXPORT), "--json").json
    assert second["already_settled"] == len(assigned) and second["no_agent"] == 0
    third = cli("bd", "sync", "--agent", "observer", "--beads", str(EXPORT), "--json").json
    assert third["paid"] == 0 and third["already_settled"] == 360
    after = wallet_earned(home)
    assert after["builder"] == earned
    assert after["observer"] == sum(_amount(p["amount"]) for p in second["payments"]) > 0


def _amount(text: str) -> Decimal:
    """A JSON amount ("37.5") in tokens."""
    return Decimal(text)


def test_sync_settles_each_closed_issue_by_the_rules(cli, home):
    """Every closed issue's payout equals rules.issue_reward on its own fields."""
    from agent_token_exchange.economy import rules
    from agent_token_exchange.economy.config import Config
    from agent_token_exchange.money import tokens

    report = cli("bd", "sync", "--agent", "claude", "--beads", str(EXPORT), "--json").json
    config = Config.default()
    expected = 0
    zero = 0
    for r in RECORDS:
        if r["status"] != "closed":
            continue
        reward = rules.issue_reward(config, priority=r.get("priority"),
                                    issue_type=r.get("issue_type"),
                                    labels=tuple(r.get("labels") or ()),
                                    close_reason=r.get("close_reason"))
        expected += tokens(reward.amount)
        zero += reward.amount == 0
    assert _amount(report["total"]) == expected
    assert report["zero"] == zero >= 12  # the agents, molecules, gate, message, duplicate
    assert wallet_earned(home)["claude"] == expected


def test_close_without_bd_pays_only_an_issue_already_closed(cli, home):
    """Without bd on PATH, bd close pays an already-closed issue once to its first agent and refuses
    open or unassigned ones."""
    closed = cli("bd", "close", "bd-09kt", "--agent", "spark", "--beads", str(EXPORT))
    assert closed.code == 0 and "bd is not on PATH" in closed.out
    assert "spark earned 150.00 tokens" in closed.out  # P3 feature: 150 × 1.0
    again = cli("bd", "close", "bd-09kt", "--agent", "zero", "--beads", str(EXPORT), "--json")
    assert again.json["agent"] == "spark"  # paid once, to the first agent
    still_open = cli("bd", "close", "bd-0479m", "--agent", "spark", "--beads", str(EXPORT))
    assert still_open.code == 2 and "is open" in still_open.err and "nothing paid" in still_open.err
    nobody = cli("bd", "close", "bd-09kt2", "--beads", str(EXPORT))
    assert nobody.code == 2
    unassigned = cli("bd", "close", "bd-r0b2", "--beads", str(EXPORT))
    assert unassigned.code == 2 and "nobody to pay" in unassigned.err
    assert wallet_earned(home)["spark"] == 150


def test_1x_export_lines_of_other_types_are_skipped(cli, home, tmp_path):
    """A `bd export` 1.x file: issue lines carry "_type": "issue"; others are skipped."""
    beads_dir = tmp_path / "proj" / ".beads"
    beads_dir.mkdir(parents=True)
    lines = [json.dumps({"_type": "header", "version": "1.0"})]
    for record in RECORDS[:50]:
        lines.append(json.dumps({"_type": "issue", **record}))
        lines.append(json.dumps({"_type": "memory", "id": record["id"] + "-m", "text": "x"}))
    (beads_dir / "issues.jsonl").write_text("\n".join(lines) + "\n")
    result = cli("bd", "preview-all", "--beads", str(beads_dir), "--json").json
    assert result["lines"] == 101 and result["issues_read"] == 50
    expected_open = sum(r["status"] not in ("closed", "tombstone") for r in RECORDS[:50])
    assert result["open"] == expected_open


def test_tombstones_and_missing_priority(cli, home, tmp_path):
    """Old exports: a missing priority is P0 (paid as P1); a tombstone earns nothing."""
    record = dict(BY_ID["bd-09kt"])
    no_priority = {k: v for k, v in record.items() if k != "priority"}
    tomb = {**record, "id": "bd-tomb", "status": "tombstone", "deleted_at": "2026-01-05T00:00:00Z"}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(no_priority) + "\n" + json.dumps(tomb) + "\n")
    p0 = cli("bd", "preview", "bd-09kt", "--agent", "zero", "--beads", str(path), "--json").json
    assert p0["reward"] == "500"
    gone = cli("bd", "preview", "bd-tomb", "--agent", "zero", "--beads", str(path), "--json")
    assert gone.json["reward"] == "0" and "tombstoned" in gone.json["reason"]


def test_a_broken_line_is_named(cli, home, tmp_path):
    """A line that is not JSON is named by file and line number, and a missing export is a clear
    exit 2."""
    path = tmp_path / "issues.jsonl"
    path.write_text(EXPORT.read_text().splitlines()[0] + "\n{not json\n")
    result = cli("bd", "preview-all", "--beads", str(path))
    assert result.code == 2 and "issues.jsonl line 2: not valid JSON" in result.err
    missing = cli("bd", "sync", "--beads", str(tmp_path / "nope.jsonl"))
    assert missing.code == 2 and "no such file" in missing.err


# -- a stand-in bd on PATH: it only records the command lines we send; the issue data
# it answers with comes from the real export. (bd itself cannot be installed here: its
# npm package downloads a binary.)

STUB = r'''
import json, os, sys
log = os.environ["BD_STUB_LOG"]
with open(log, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
state = os.environ["BD_STUB_STATE"]
issues = {}
for line in open(state):
    if line.strip():
        record = json.loads(line)
        issues[record["id"]] = record
args = sys.argv[1:]
if args[:1] == ["list"]:
    print(json.dumps(list(issues.values())))
elif args[:1] == ["show"]:
    if args[1] not in issues:
        print(f"Error: no issue found matching {args[1]!r}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps([issues[args[1]]]))
elif args[:1] == ["close"]:
    record = issues[args[1]]
    record["status"] = "closed"
    if "--reason" in args:
        record["close_reason"] = args[args.index("--reason") + 1]
    with open(state, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in issues.values())
    print(json.dumps([record]))
'''


@pytest.fixture
def bd_stub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "bd"
    stub.write_text(f"#!{sys.executable}\n{STUB}")
    stub.chmod(0o755)
    state = tmp_path / "bd-state.jsonl"
    state.write_text(EXPORT.read_text())
    log = tmp_path / "bd-calls.jsonl"
    monkeypatch.setenv("BD_STUB_LOG", str(log))
    monkeypatch.setenv("BD_STUB_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_close_with_bd_runs_bd_close_then_pays(cli, home, bd_stub):
    """With bd on PATH, bd close runs bd show, bd close and bd show, then pays the issue."""
    result = cli("bd", "close", "bd-0479m", "--reason", "Implemented", "--agent", "claude",
                 "--json")
    assert result.code == 0, result.err
    assert result.json["closed_by_bd"] is True and result.json["amount"] == "120"  # P3 task
    assert calls(bd_stub) == [["show", "bd-0479m", "--json"],
                              ["close", "bd-0479m", "--reason", "Implemented", "--json"],
                              ["show", "bd-0479m", "--json"]]


def test_close_with_bd_and_nobody_to_pay_does_not_close(cli, home, bd_stub):
    """With bd on PATH and nobody to pay, bd close refuses before running bd close."""
    result = cli("bd", "close", "bd-0479m")
    assert result.code == 2 and "nobody to pay" in result.err
    assert calls(bd_stub) == [["show", "bd-0479m", "--json"]]


def test_preview_all_and_sync_ask_bd_when_it_is_on_path(cli, home, bd_stub):
    """With bd on PATH, preview-all and sync read the issues from bd list."""
    view = cli("bd", "preview-all", "--json").json
    assert view["source"] == "bd" and view["issues_read"] == 485
    report = cli("bd", "sync", "--agent", "zero", "--json").json
    assert report["closed"] == 360
    assert calls(bd_stub) == [["list", "--all", "--json"], ["list", "--all", "--json"]]


def test_on_close_hook_pays_from_the_json_bd_passes(cli, home, tmp_path):
    """install-hook writes .beads/hooks/on_close; run as bd would run it (the issue's
    JSON on stdin), it pays once, and a shared hook still gets the JSON."""
    project = tmp_path / "proj"
    (project / ".beads" / "hooks").mkdir(parents=True)
    theirs = project / ".beads" / "hooks" / "on_close"
    seen = tmp_path / "their-stdin"
    theirs.write_text(f"#!/bin/sh\ncat > {seen}\n")
    theirs.chmod(0o755)
    installed = cli("bd", "install-hook", "--repo", str(project), "--json")
    assert installed.code == 0 and installed.json["outcome"] == "added"
    issue = {**BY_ID["bd-0479m"], "status": "closed", "assignee": "builder"}
    for _ in range(2):
        done = subprocess.run([str(theirs), "bd-0479m", "close"], input=json.dumps(issue),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text())["id"] == "bd-0479m"
    assert wallet_earned(home)["builder"] == 120
    status = cli("hooks", "status", "--repo", str(project), "--json")
    assert status.code == 2  # not a git repository
    broken = subprocess.run([str(theirs)], input="{oops", capture_output=True, text=True,
                            timeout=60)
    assert broken.returncode == 0 and "issue not paid" in broken.stderr


def test_install_hook_needs_a_beads_folder(cli, home, tmp_path):
    """bd install-hook into a folder without .beads exits 2 saying so."""
    result = cli("bd", "install-hook", "--repo", str(tmp_path))
    assert result.code == 2 and "no .beads folder" in result.err


def test_on_close_block_never_fails_a_shared_hook(cli, home, tmp_path):
    """When mktemp cannot make its file our block steps aside: the rest of a shared
    on_close hook still runs and still reads bd's JSON, and the hook exits 0."""
    project = tmp_path / "proj"
    (project / ".beads" / "hooks").mkdir(parents=True)
    theirs = project / ".beads" / "hooks" / "on_close"
    seen = tmp_path / "their-stdin"
    theirs.write_text(f"#!/bin/sh\ncat > {seen}\n")
    theirs.chmod(0o755)
    assert cli("bd", "install-hook", "--repo", str(project)).code == 0
    issue = {**BY_ID["bd-0479m"], "status": "closed", "assignee": "builder"}
    done = subprocess.run([str(theirs), "bd-0479m", "close"], input=json.dumps(issue),
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TMPDIR": str(tmp_path / "no-such-folder")})
    assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text())["id"] == "bd-0479m"


def test_rewards_table_rounds_as_the_payouts_do(cli, home):
    """Each cell is what closing such an issue pays: half a micro-token rounds up, as
    rules.issue_reward does, rather than being cut off."""
    set_config(home, lambda text: text.replace("P5 = 50", "P5 = 0.000003").replace(
        "security = 2.0\nbug = 1.5\nfeature = 1.0\ntask = 0.8\ndocs = 0.6\n", ""))
    row = next(line for line in cli("bd", "rewards").out.splitlines() if "P5" in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "P5", "0.000003", "0.000002"]  # chore 0.5: 1.5 micro-tokens round up to 2


def test_on_close_problems_are_one_line_like_the_commit_hook(home, tmp_path):
    """A message spanning lines (a path holding a newline) is cut to its first line,
    and the JSON keeps the error's own code, as `hook post-commit` does."""
    where = tmp_path / "no\nsuch"
    command = [sys.executable, "-m", "agent_token_exchange", "bd", "on-close", "bd-1",
               "--beads", str(where), "--home", str(home)]
    plain = subprocess.run(command, input="", capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0
    assert plain.stderr == f"token-exchange: issue not paid: {tmp_path}/no\n"
    as_json = subprocess.run([*command, "--json"], input="", capture_output=True, text=True,
                             timeout=60)
    assert as_json.returncode == 0 and len(as_json.stderr.splitlines()) == 1
    assert json.loads(as_json.stdout) == {"ok": False, "error": {
        "code": "invalid_input", "message": f"{tmp_path}/no"}}
