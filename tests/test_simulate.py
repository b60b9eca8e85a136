"""The 24-hour economy simulation: the seed's experiment on the real exchange."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from decimal import Decimal

import pytest

from agent_token_exchange.cli import main
from agent_token_exchange.errors import RateLimited
from agent_token_exchange.sim.engine import run_simulation, seed_message
from agent_token_exchange.sim.scenario import load_scenario

# The seed's "Final Balances" table: earned and spent per agent.
SEED_TABLE = {
    "claude": (3255, 3935), "builder": (5538, 977), "observer": (4260, 284),
    "lambda": (4103, 105), "spark": (1978, 1419), "zero": (1539, 75),
}
SEEDS = range(1, 6)


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["simulate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def simulate_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = simulate(capsys, *args, "--json")
    assert code == 0, err or out
    return json.loads(out)


@pytest.fixture(scope="module")
def seed_runs():
    scenario = load_scenario()
    return [run_simulation(scenario, seed, verify=True) for seed in SEEDS]


def test_the_seed_message_forms_are_reproduced_exactly():
    """Refusals print as the seed's log does: 660.0 > 500; 810.0/1000 used, need 195.0."""
    burst = RateLimited("x", kind="burst", used=Decimal(660), limit=Decimal(500),
                        needed=Decimal(660))
    hourly = RateLimited("x", kind="hourly", used=Decimal(810), limit=Decimal(1000),
                         needed=Decimal(195))
    assert seed_message(burst) == "Transaction exceeds burst limit (660.0 > 500)"
    assert seed_message(hourly) == "Hourly limit reached (810.0/1000 used, need 195.0)"


def test_default_run_reports_the_seed_table_shape(capsys):
    """--json: agents with start/earned/spent/final/net as decimal strings that add up."""
    data = simulate_json(capsys, "--seed", "3")
    assert data["ok"] is True
    assert [a["name"] for a in data["agents"]] == list(SEED_TABLE)
    for agent in data["agents"]:
        start, earned, spent, final, net = (Decimal(agent[k]) for k in
                                            ("start", "earned", "spent", "final", "net"))
        assert start == 10000
        assert final == start + earned - spent
        assert net == final - start
    events = data["rate_limit_events"]
    assert events, "claude should hit a limit in the default day"
    for event in events:
        assert set(event) >= {"time", "agent", "kind", "message"}
        assert event["kind"] in {"burst", "hourly", "daily"}
        said = re.escape(f"{event['agent']}: {event['message']}")
        assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] WARN: " + said, event["log"])
    assert [b["hours"] for b in data["blocks"]] == ["00-04", "05-12", "13-18", "19-23"]
    usage = {(u["agent"], u["model"]) for u in data["model_usage"] if not u["pooled"]}
    assert ("claude", "claude-opus") in usage and ("zero", "llama3.2") in usage
    assert ("builder", "qwen2.5-coder") in usage and ("builder", "claude-sonnet") in usage
    assert not any(agent == "zero" and model != "llama3.2" for agent, model in usage)


def test_same_seed_gives_byte_identical_json_and_another_seed_does_not(capsys):
    """The same seed gives byte-identical JSON and another seed gives different JSON."""
    first = simulate(capsys, "--seed", "11", "--json")[1]
    again = simulate(capsys, "--seed", "11", "--json")[1]
    other = simulate(capsys, "--seed", "12", "--json")[1]
    assert first == again
    assert first != other


def test_calibration_mean_within_30_percent_of_the_seed_table(seed_runs):
    """Over a few seeds, every agent's mean earned and spent is within ±30 % of the seed's."""
    for name, (earned, spent) in SEED_TABLE.items():
        figures = [next(a for a in run.agents if a.name == name) for run in seed_runs]
        mean_earned = sum(a.earned for a in figures) / len(figures) / 1e6
        mean_spent = sum(a.spent for a in figures) / len(figures) / 1e6
        assert abs(mean_earned / earned - 1) <= 0.30, (name, "earned", mean_earned)
        assert abs(mean_spent / spent - 1) <= 0.30, (name, "spent", mean_spent)


def test_calibration_shapes_the_seed_describes(seed_runs):
    """claude alone in the red in most runs, builder richest, zero thriftiest, claude
    hits burst and hourly limits, nobody below its reserve."""
    runs = len(seed_runs)
    alone_in_red = sum(1 for r in seed_runs if [a.name for a in r.agents if a.net < 0]
                       == ["claude"])
    richest = [max(r.agents, key=lambda a: a.final).name for r in seed_runs]
    thriftiest = [min(r.agents, key=lambda a: a.spent).name for r in seed_runs]
    assert alone_in_red > runs / 2
    assert richest.count("builder") > runs / 2
    assert thriftiest.count("zero") > runs / 2
    for kind in ("burst", "hourly"):
        hit = sum(1 for r in seed_runs if any(e.agent == "claude" and e.kind == kind
                                              for e in r.rate_limit_events))
        assert hit > runs / 2, kind
    for run in seed_runs:
        for agent in run.agents:
            assert agent.min_balance >= agent.reserve, agent.name


def test_runs_report_the_mean_of_the_single_runs(capsys):
    """--runs 3 from seed 5: each agent's figure is the mean of seeds 5, 6 and 7."""
    single = [simulate_json(capsys, "--seed", str(s)) for s in (5, 6, 7)]
    summary = simulate_json(capsys, "--seed", "5", "--runs", "3")
    assert summary["runs"] == 3 and summary["summary"]["seeds"] == [5, 6, 7]
    for i, agent in enumerate(summary["agents"]):
        values = [Decimal(run["agents"][i]["spent"]) for run in single]
        expected = (sum(values) / 3).quantize(Decimal("0.000001"))
        assert Decimal(agent["spent"]) == expected
        spread = summary["summary"]["spread"][i]["spent"]
        assert Decimal(spread["min"]) == min(values) and Decimal(spread["max"]) == max(values)


def test_sweep_of_the_hourly_limit_changes_the_refusals(capsys):
    """A tight hourly limit refuses more than a loose one; figures come per value."""
    data = simulate_json(capsys, "--sweep", "rate_limits.hourly=300,5000", "--seed", "2")
    values = data["sweep"]["values"]
    assert [v["value"] for v in values] == ["300", "5000"]
    tight, loose = (Decimal(v["rate_limit_refusals"]["hourly"]) for v in values)
    assert tight > loose == 0
    claude_spent = [Decimal(v["agents"][0]["spent"]) for v in values]
    assert claude_spent[0] < claude_spent[1]


def test_scenario_file_changes_agents_and_rules(capsys, tmp_path):
    """A scenario file changes the rules (burst limit) and agents' behaviour (zero makes no
    requests)."""
    scenario = tmp_path / "frugal.toml"
    scenario.write_text(
        'name = "frugal"\n'
        "[config.rate_limits]\nburst = 50\n"
        "[agents.zero]\nrequests_per_day = 0\n"
    )
    data = simulate_json(capsys, "--scenario", str(scenario), "--seed", "4")
    assert data["scenario"] == "frugal"
    zero = next(a for a in data["agents"] if a["name"] == "zero")
    assert zero["spent"] == "0" and zero["requests"] == 0
    bursts = [e for e in data["rate_limit_events"] if e["kind"] == "burst"]
    assert bursts and all(e["message"].endswith("> 50)") for e in bursts)


def test_population_clones_the_agents_in_teams(capsys, tmp_path):
    """A population larger than the roster clones the agents in numbered teams, and --hours sets the
    day's length."""
    scenario = tmp_path / "crowd.toml"
    scenario.write_text("[population]\nagents = 8\n")
    data = simulate_json(capsys, "--scenario", str(scenario), "--hours", "6")
    names = [a["name"] for a in data["agents"]]
    assert names[:7] == ["claude-1", "builder-1", "observer-1", "lambda-1", "spark-1",
                         "zero-1", "claude-2"]
    assert len(names) == 8
    assert data["hours"] == 6


def test_out_writes_csv_charts_and_one_html_report(capsys, tmp_path):
    """--out writes the transactions CSV, three PNG charts, a JSON report and one self-contained
    HTML report."""
    out = tmp_path / "report"
    data = simulate_json(capsys, "--seed", "3", "--out", str(out))
    assert data["files"] == ["report.html", "report.json", "transactions.csv", "balance.png",
                             "spend_by_model.png", "refusals_per_hour.png", "activity.png"]
    with (out / "transactions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == data["transactions"]
    assert {r["kind"] for r in rows} >= {"grant", "commit", "issue", "inference",
                                         "pool_contribution", "pool_spend"}
    for name in ("balance.png", "spend_by_model.png", "refusals_per_hour.png", "activity.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4
    assert "Final balances" in page and "WARN: " in page
    saved = json.loads((out / "report.json").read_text())
    assert saved["agents"] == data["agents"]


@pytest.mark.sqlite_only  # compares the SQLite file byte for byte
def test_the_users_exchange_is_never_touched(cli, home):
    """--home is read for its rules only; its database stays byte for byte the same."""
    database = home / ".exchange" / "exchange.db"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    result = cli("simulate", "--seed", "1", "--hours", "3", "--json")
    assert result.code == 0, result.err
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--sweep", "rate_limits.hourlyy=1,2"], "not a config key"),
        (["--sweep", "rate_limits.hourly"], "KEY=V1,V2"),
        (["--sweep", "rate_limits.hourly=-5,10"], "rate_limits.hourly"),
        (["--runs", "0"], "--runs"),
        (["--hours", "0"], "--hours"),
        (["--scenario", "/nonexistent/s.toml"], "no such file"),
    ],
)
def test_bad_input_is_one_clear_line(capsys, args, says):
    """Bad simulate options exit 2 with one line saying what is wrong."""
    code, out, err = simulate(capsys, *args)
    assert code == 2
    assert says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_scenario_key_names_the_key(capsys, tmp_path):
    """A misspelt scenario key is refused naming the full key as unknown."""
    scenario = tmp_path / "typo.toml"
    scenario.write_text("[agents.claude]\nrequests_per_dya = 3\n")
    code, out, err = simulate(capsys, "--scenario", str(scenario), "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert "agents.claude.requests_per_dya" in error["message"]
    assert "unknown key" in error["message"]


def test_out_must_be_a_directory(capsys, tmp_path):
    """--out pointing at a file exits 2 saying it is not a directory."""
    afile = tmp_path / "file"
    afile.write_text("x")
    code, _, err = simulate(capsys, "--out", str(afile))
    assert code == 2 and "not a directory" in err


def test_help_has_an_example(capsys):
    """simulate --help shows an example."""
    code, out, _ = simulate(capsys, "--help")
    assert code == 0 and "Example: token-exchange simulate" in out


def test_scenario_pool_work_goes_through_the_exchange(seed_runs):
    """The opus-team pool is created, funded by three agents, spends and is refunded."""
    pool = seed_runs[0].pools[0]
    assert pool["name"] == "opus-team" and pool["requests"] == 2
    assert set(pool["contributed"]) == {"claude", "builder", "lambda"}
    kinds = {t.kind for t in seed_runs[0].transfers}
    assert {"pool_contribution", "pool_spend", "pool_refund"} <= kinds


def test_the_report_opens_with_what_the_run_found(capsys, tmp_path):
    """Findings first (measured from this run), then charts, then tables; numbers with
    separators, two decimals and a sign; pooled rows carry inference tokens."""
    out = tmp_path / "report"
    data = simulate_json(capsys, "--seed", "3", "--out", str(out))
    page = (out / "report.html").read_text()
    findings = page.index('class="findings"')
    assert findings < page.index("<img") < page.index("Final balances")
    box = page[findings:page.index("</section>", findings)]
    agents = data["agents"]
    red = [a["name"] for a in agents if Decimal(a["net"]) < 0]
    richest = max(agents, key=lambda a: Decimal(a["final"]))["name"]
    thrifty = min(agents, key=lambda a: Decimal(a["spent"]))["name"]
    assert all(name in box for name in red) and "Ends in the red" in box
    assert f"Richest at the end: {richest}" in box and f"Spends least: {thrifty}" in box
    for event in data["rate_limit_events"]:
        assert event["agent"] in box and event["kind"] in box
    assert "<title>Agent economy: 6 agents over 24 hours</title>" in page
    assert "10,000.00" in page
    tables = re.sub(r"data:image/png;base64,[^\"]+|<pre>.*?</pre>", "", page, flags=re.S)
    assert not re.search(r"\d\.\d{3,}", tables)  # the seed's own log lines aside
    pooled = [u for u in data["model_usage"] if u["pooled"]]
    assert pooled and all(u["inference_tokens"] > 0 for u in pooled)
    pool_tokens = sum(int(r["inference_tokens"]) for r in csv.DictReader(
        (out / "transactions.csv").open()) if r["kind"] == "pool_spend")
    assert sum(u["inference_tokens"] for u in pooled) == pool_tokens


def test_a_sweep_report_names_its_seeds_and_signs_its_nets(capsys, tmp_path):
    """A sweep report says which seeds it ran and prints nets with a sign, never in parentheses."""
    out = tmp_path / "sweep"
    simulate_json(capsys, "--sweep", "rate_limits.hourly=500,2000", "--runs", "2",
                  "--hours", "6", "--seed", "1", "--out", str(out))
    page = (out / "report.html").read_text()
    assert "seeds 1–2" in page and "What the sweep found" in page
    assert re.search(r"\(net [+-][\d,]+\.\d\d\)", page)
    assert not re.search(r"\([\d,]+\.\d+\)", page)  # no accounting-style parentheses


def test_simulate_without_out_never_loads_matplotlib():
    """The charts import matplotlib inside their drawing functions only."""
    import subprocess
    import sys

    code = ("import sys; from agent_token_exchange.cli import main; "
            "main(['simulate', '--hours', '2', '--json']); "
            "sys.stderr.write(str('matplotlib' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stderr.strip().endswith("False"), done.stderr


def test_charts_shade_the_four_time_of_day_blocks(seed_runs):
    """The charts shade the seed's four time-of-day blocks."""
    from agent_token_exchange.sim.charts import block_spans

    spans = block_spans(seed_runs[0])
    assert [(first, end, name) for first, end, _, name in spans] == [
        (0, 5, "heavy commits"), (5, 13, "balanced"), (13, 19, "steady LLM use"),
        (19, 24, "evening spike")]
