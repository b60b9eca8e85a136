"""Every rule of the seed's economy against the seed's own tables and examples."""

from decimal import Decimal

import pytest

from agent_token_exchange.economy import pool_rules, rules
from agent_token_exchange.economy.config import Config, default_config_text, parse_config_text
from agent_token_exchange.money import MICRO

CONFIG = Config.default()
T = MICRO  # one token


def test_p2_bug_earns_450():
    """The seed's example: a P2 bug fix earns 300 × 1.5 = 450 tokens."""
    assert rules.issue_reward(CONFIG, priority=2, issue_type="bug").amount == 450 * T


def test_claude_hotfix_on_nexushive_earns_600():
    """claude committing 'hotfix: critical security patch' to nexushive-setup: 150×2×2."""
    reward = rules.commit_reward(CONFIG, "claude", "nexushive-setup",
                                 "hotfix: critical security patch")
    assert reward.amount == 600 * T
    assert (reward.contract, reward.bonus_class) == ("nexushive-setup", "emergency")


def test_pool_stakes_600_400_pay_60_40_of_a_spend():
    """A pool whose stakes are 600 + 400 draws 60 % / 40 % of a spend."""
    assert pool_rules.largest_remainder_split(100 * T, {"a": 600 * T, "b": 400 * T}) == {
        "a": 60 * T, "b": 40 * T}
    assert pool_rules.share_percent(600, 1000) == Decimal("60.00")


@pytest.mark.parametrize(
    ("agent", "level", "base_rate", "primary"),
    [("claude", 7, 150, "claude-opus"), ("builder", 6, 120, "qwen2.5-coder"),
     ("lambda", 6, 110, "claude-opus"), ("spark", 6, 115, "claude-sonnet"),
     ("observer", 5, 100, "gemini-pro"), ("zero", 5, 90, "llama3.2")],
)
def test_agent_hierarchy_matches_the_seed(agent, level, base_rate, primary):
    """Each agent's level, base rate and primary model match the seed's hierarchy."""
    spec = CONFIG.agents[agent]
    assert (spec.level, spec.base_rate, spec.primary_llm) == (level, base_rate, primary)


@pytest.mark.parametrize(
    ("model", "per_1k"),
    [("claude-opus", 15), ("claude-sonnet", 3), ("gemini-pro", 2), ("llama3.2", Decimal("0.1")),
     ("qwen2.5-coder", Decimal("0.1"))],
)
def test_llm_costs_per_1k_match_the_seed(model, per_1k):
    """Each model's price per 1K tokens matches the seed's table."""
    assert rules.llm_cost(CONFIG, model, 1000) == int(Decimal(per_1k) * T)


def test_llm_cost_rounds_half_up_once():
    """An LLM cost is computed exactly in micro-tokens from the per-1K price."""
    # llama3.2: 0.1 per 1K = 100 micro per token; 5 tokens = 500 micro exactly.
    assert rules.llm_cost(CONFIG, "llama3.2", 5) == 500
    # claude-opus: 15 per 1K = 15,000 micro per token.
    assert rules.llm_cost(CONFIG, "claude-opus", 44000) == 660 * T


def test_preferred_llms_follow_the_seed():
    """An agent's preferred model per task type follows the seed, falling back to its primary model.
    """
    assert rules.preferred_llm(CONFIG, "builder", "coding") == "qwen2.5-coder"
    assert rules.preferred_llm(CONFIG, "builder", "planning") == "claude-sonnet"
    assert rules.preferred_llm(CONFIG, "zero", "anything") == "llama3.2"
    assert rules.preferred_llm(CONFIG, "claude", "coding") == "claude-opus"
    assert rules.preferred_llm(CONFIG, "spark", "chat") == "llama3.2"
    assert rules.preferred_llm(CONFIG, "observer", "analysis") == "gemini-pro"


@pytest.mark.parametrize(
    ("project", "contract", "multiplier"),
    [("nexushive-setup", "nexushive-setup", Decimal("2.0")),
     ("claude-monitor", "claude-monitor", Decimal("1.5")),
     ("scheme-parser", "scheme", Decimal("1.8")), ("scheme-", "scheme", Decimal("1.8")),
     ("my-scheme-parser", "default", Decimal("1.0")),  # full match, not search
     ("nexushive-setup-2", "default", Decimal("1.0")), ("anything", "default", Decimal("1.0"))],
)
def test_contracts_match_the_whole_project_name(project, contract, multiplier):
    """A project matches a contract only when the contract's pattern matches the whole name, else
    the default contract."""
    found = rules.match_contract(CONFIG, project)
    assert (found.name, found.multiplier) == (contract, multiplier)


@pytest.mark.parametrize(
    ("message", "bonus"),
    [("hotfix: critical security patch", "2.0"), ("fix: off by one", "1.5"),
     ("Fix the bug", "1.5"), ("test: cover the reader", "1.3"), ("add spec", "1.3"),
     ("refactor(core): split", "1.2"), ("docs(readme): explain pools", "1.1"),
     ("add feature", "1"), ("prefix the fixture", "1"),  # whole words only
     ("URGENT docs", "2.0"), ("resolve and optimize", "1.5")],
)
def test_commit_bonus_is_the_largest_whole_keyword_class(message, bonus):
    """A commit's bonus is the largest class whose keywords appear as whole words in its message."""
    assert rules.commit_bonus(CONFIG, message)[0] == Decimal(bonus)


@pytest.mark.parametrize(
    ("priority", "issue_type", "labels", "amount"),
    [(1, "feature", (), 500), (2, "bug", (), 450), (3, "task", (), 120), (4, "docs", (), 45),
     (4, "chore", (), 37.5), (0, "bug", (), 750), (None, "feature", (), 500),
     (2, "bug", ("security",), 600), (2, "question", (), 300), (2, "epic", (), 0),
     (2, "molecule", (), 0), (2, "merge-request", (), 0)],
)
def test_issue_rewards_follow_the_table_and_rulings(priority, issue_type, labels, amount):
    """Issue rewards follow the seed's priority-by-type table and its rulings on labels and non-work
    types."""
    reward = rules.issue_reward(CONFIG, priority=priority, issue_type=issue_type, labels=labels)
    assert reward.amount == int(Decimal(str(amount)) * T)


@pytest.mark.parametrize("reason", ["Won't fix", "duplicate of bd-12", "Cancelled", "abandoned"])
def test_failure_closes_earn_nothing(reason):
    """An issue closed as won't-fix, duplicate, cancelled or abandoned earns nothing."""
    assert rules.issue_reward(CONFIG, priority=1, issue_type="bug",
                              close_reason=reason).amount == 0


def test_tombstoned_issues_earn_nothing():
    """A tombstoned issue earns nothing."""
    assert rules.issue_reward(CONFIG, priority=1, issue_type="bug", tombstoned=True).amount == 0


def test_author_email_maps_to_agent():
    """A commit author's email maps case-insensitively to its agent, or to None when unknown."""
    assert rules.agent_for_email(CONFIG, "claude@aygp-dr.ai") == "claude"
    assert rules.agent_for_email(CONFIG, "Builder@Example.com") == "builder"
    assert rules.agent_for_email(CONFIG, "stranger@example.com") is None


LIMITS = CONFIG.limits_for("claude")


def test_burst_message_in_the_seeds_words():
    """A call over the burst limit is refused as burst_limit in the seed's words."""
    decision = rules.check_consumption(LIMITS, amount=660 * T, balance=10_000 * T,
                                       hourly_used=0, daily_used=0)
    assert (decision.code, decision.message) == ("burst_limit",
                                                 "Exceeds burst limit (660.00 > 500)")


def test_hourly_message_in_the_seeds_words():
    """A call past the hourly limit is refused in the seed's words, thousands separated."""
    decision = rules.check_consumption(LIMITS, amount=195 * T, balance=10_000 * T,
                                       hourly_used=810 * T, daily_used=810 * T)
    assert decision.message == "Hourly limit reached (810.00/1,000 used, need 195.00)"


def test_daily_reserve_and_funds_messages():
    """The daily limit, emergency reserve and insufficient-funds refusals each carry their own
    message."""
    daily = rules.check_consumption(LIMITS, amount=100 * T, balance=10_000 * T,
                                    hourly_used=0, daily_used=9_950 * T)
    assert daily.message.startswith("Daily limit reached (9,950.00/10,000 used")
    reserve = rules.check_consumption(LIMITS, amount=400 * T, balance=800 * T,
                                      hourly_used=0, daily_used=0)
    assert reserve.message.startswith("Would breach emergency reserve")
    funds = rules.check_outflow(LIMITS, amount=900 * T, balance=800 * T)
    assert funds.message.startswith("Insufficient funds")


def test_limits_are_inclusive_at_the_edge():
    """Exactly reaching a limit is allowed; one micro-token more is not."""
    ok = rules.check_consumption(LIMITS, amount=500 * T, balance=10_000 * T,
                                 hourly_used=500 * T, daily_used=500 * T)
    over = rules.check_consumption(LIMITS, amount=500 * T + 1, balance=10_000 * T,
                                   hourly_used=0, daily_used=0)
    assert ok.allowed and over.code == "burst_limit"


def test_per_agent_overrides_apply():
    """A per-agent rate-limit override applies to that agent only."""
    config = parse_config_text(default_config_text().replace(
        "[agents.claude.preferred_llms]", "[agents.claude.rate_limits]\nburst = 800\n"
        "[agents.claude.preferred_llms]"))
    assert config.limits_for("claude").burst == 800 * T
    assert config.limits_for("zero").burst == 500 * T


def test_largest_remainder_split_sums_exactly_and_never_exceeds_a_weight():
    """A split gives each leftover micro-token to the largest remainders (ties: the larger
    weight, then the name), sums exactly, and never takes more than a weight."""
    assert pool_rules.largest_remainder_split(101, {"a": 1, "b": 1, "c": 2}) == {
        "a": 25, "b": 25, "c": 51}
    # 10 over 3:3:1 is 4.29 / 4.29 / 1.43: floors 4, 4, 1 and one left, to the largest
    # remainder, the smallest weight's 0.43.
    assert pool_rules.largest_remainder_split(10, {"b": 3, "a": 3, "c": 1}) == {
        "a": 4, "b": 4, "c": 2}
    # 3 over 1:1 is 1.5 each: a tie of remainders and weights, the name decides.
    assert pool_rules.largest_remainder_split(3, {"b": 1, "a": 1}) == {"a": 2, "b": 1}
    # 7 over 5:1:1 is 5 / 1 / 1 exactly.
    assert pool_rules.largest_remainder_split(7, {"a": 5, "b": 1, "c": 1}) == {
        "a": 5, "b": 1, "c": 1}
    # 2 over 1:1:1: the two largest remainders (all equal: by name) get one each.
    assert pool_rules.largest_remainder_split(2, {"c": 1, "b": 1, "a": 1}) == {
        "a": 1, "b": 1, "c": 0}


def test_stakes_from_contributions_sum_to_the_balance_exactly():
    """Stakes given to a pool from before stakes: its balance in proportion to what each put
    in, summing to the balance exactly; nothing held gives nothing."""
    stakes = pool_rules.stakes_from_contributions(1_000 * T + 1, {"a": 1_900 * T, "b": 100 * T,
                                                                  "c": 0})
    assert sum(stakes.values()) == 1_000 * T + 1 and stakes["c"] == 0
    assert stakes == {"a": 950 * T + 1, "b": 50 * T, "c": 0}
    assert pool_rules.stakes_from_contributions(0, {"a": 5}) == {"a": 0}


def test_headroom_is_the_tightest_limit():
    """Consumption headroom is the tightest of the hourly limit, the reserve and the balance."""
    assert rules.consumption_headroom(LIMITS, balance=10_000 * T, hourly_used=900 * T,
                                      daily_used=900 * T) == 100 * T
    assert rules.consumption_headroom(LIMITS, balance=700 * T, hourly_used=0,
                                      daily_used=0) == 200 * T
    assert rules.consumption_headroom(LIMITS, balance=100 * T, hourly_used=0,
                                      daily_used=0) == 0


def test_pool_rules_members_minimum_stakes_and_funds():
    """Pool rules refuse non-members, contributions below the minimum, spenders without a
    stake, spends with too few members staking the minimum and spends above the balance."""
    assert pool_rules.check_contribution("pool-1", "zero", is_member=False, amount=T,
                                         minimum=T).code == "not_allowed"
    assert pool_rules.check_contribution("pool-1", "zero", is_member=True, amount=T - 1,
                                         minimum=T).code == "not_allowed"
    assert pool_rules.check_contribution("pool-1", "zero", is_member=True, amount=T,
                                         minimum=T).allowed

    def spend(actor, stakes, cost=T, balance=None):
        return pool_rules.check_pool_spend(
            "pool-1", actor, stakes=stakes, minimum=T, min_members=2, cost=cost,
            balance=sum(stakes.values()) if balance is None else balance)

    assert "not a member" in spend("zero", {"a": T, "b": T}).message
    assert "has no stake" in spend("c", {"a": T, "b": T, "c": 0}).message
    lone = spend("a", {"a": 2 * T, "b": T - 1})  # b stakes less than the minimum
    assert lone.code == "not_allowed" and "needs 2 members with a stake" in lone.message
    assert spend("b", {"a": T, "b": 1, "c": T}).allowed  # any positive stake may spend
    assert spend("a", {"a": T, "b": T}, cost=2 * T + 1).code == "insufficient_funds"
    assert spend("a", {"a": T, "b": T}, cost=2 * T).allowed


def test_a_draw_must_fit_its_members_burst_hourly_and_daily_limits():
    """A member's draw is checked against its own burst, hourly and daily limits, and the
    refusal names the member."""
    def draw(amount, hourly=0, daily=0):
        return pool_rules.check_draw("pool-1", "builder", LIMITS, draw=amount,
                                     hourly_used=hourly, daily_used=daily)

    burst = draw(500 * T + 1)
    assert burst.code == "burst_limit" and "builder" in burst.message
    hourly = draw(200 * T, hourly=900 * T)
    assert hourly.code == "hourly_limit" and "for builder" in hourly.message
    assert draw(100 * T, hourly=900 * T).allowed
    assert draw(100 * T, daily=9_950 * T).code == "daily_limit"


def test_consent_rules_invite_join_leave_and_dissolve():
    """The creator invites and dissolves; an invited agent or anyone for an open pool joins;
    a member other than the creator leaves."""
    assert pool_rules.check_invite("pool-1", "claude", creator="claude").allowed
    assert pool_rules.check_invite("pool-1", "zero", creator="claude").code == "not_allowed"
    assert pool_rules.check_join("pool-1", "zero", is_open=False, invited=False,
                                 creator="claude").code == "not_allowed"
    assert pool_rules.check_join("pool-1", "zero", is_open=False, invited=True,
                                 creator="claude").allowed
    assert pool_rules.check_join("pool-1", "zero", is_open=True, invited=False,
                                 creator="claude").allowed
    assert pool_rules.check_leave("pool-1", "zero", is_member=True, creator="claude").allowed
    assert pool_rules.check_leave("pool-1", "claude", is_member=True,
                                  creator="claude").code == "not_allowed"
    assert pool_rules.check_leave("pool-1", "zero", is_member=False,
                                  creator="claude").code == "not_allowed"
    assert pool_rules.check_dissolve("pool-1", "zero", creator="claude").code == "not_allowed"


def test_a_commit_reward_is_capped_by_the_budget_left():
    """One rule for the live commit, its preview and the backfill's dry run."""
    reward = rules.commit_reward(CONFIG, "claude", "misc", "work")  # 150 from default
    full = rules.capped_commit_reward(reward, 1_000 * T)
    assert full.allowed and (full.amount, full.note) == (150 * T, "")
    capped = rules.capped_commit_reward(reward, 100 * T)
    assert capped.amount == 100 * T and "capped" in capped.note and "'default'" in capped.note
    for left in (0, -1):
        none_left = rules.capped_commit_reward(reward, left)
        assert none_left.code == "budget_exhausted" and none_left.amount == 0
        assert "'default' budget exhausted" in none_left.note
