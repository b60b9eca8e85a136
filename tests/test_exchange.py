"""The exchange's operations: what they pay and charge, and what they refuse."""

from dataclasses import replace
from decimal import Decimal

import pytest

from agent_token_exchange import (
    BudgetExhausted,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    RateLimited,
    init_exchange,
    open_exchange,
)
from agent_token_exchange.economy.config import default_config_text
from agent_token_exchange.money import MICRO

from .ledger_checks import account, assert_invariants, kept_result, snapshot

SHA_DEADBEEF = "DEADBEEF".ljust(40, "0")  # a full object id
SHA_abc123 = "abc123".ljust(40, "0")  # a full object id
SHA_abcd1234 = "abcd1234".ljust(40, "0")  # a full object id
SHA_deadbeef = "deadbeef".ljust(40, "0")  # a full object id

T = Decimal(1)  # one token: records carry Decimal tokens


def test_every_agent_starts_with_10000(exchange):
    """Every configured agent starts with 10,000 tokens and the ledger's invariants hold."""
    assert {exchange.balance(a).tokens for a in exchange.agents()} == {10_000 * T}
    assert_invariants(exchange)


def test_commit_pays_from_the_contract_budget(exchange):
    """A commit pays its reward into the author's wallet out of the project's contract budget."""
    paid = exchange.commit("claude@aygp-dr.ai", "nexushive-setup",
                           "hotfix: critical security patch", sha=SHA_abc123)
    assert (paid.agent, paid.amount, paid.tokens) == ("claude", 600 * T, 10_600 * T)
    assert exchange.budget_left("nexushive-setup") == 49_400 * T
    wallet = exchange.balance("claude")
    assert (wallet.earned, wallet.spent) == (600 * T, 0)
    assert_invariants(exchange)


def test_same_sha_pays_once(exchange):
    """A commit SHA pays once, case-insensitively: repeating it returns the first payment,
    marked as a replay, with the balance as it is now (not as it was then)."""
    first = exchange.commit("zero@x.io", "p", "fix: a", sha=SHA_deadbeef)
    spent = exchange.llm("zero", "coding", 5000)
    again = exchange.commit("zero@x.io", "p", "fix: a", sha=SHA_DEADBEEF)
    assert not first.replayed
    assert again == replace(first, replayed=True, tokens=spent.tokens)
    assert again.tokens == exchange.balance("zero").tokens
    assert exchange.balance("zero").earned == first.amount


def test_same_sha_with_another_message_is_a_conflict(exchange):
    """Reusing a paid SHA with another message is a Conflict that writes nothing and says so
    in plain words."""
    exchange.commit("zero@x.io", "p", "fix: a", sha=SHA_deadbeef)
    before = snapshot(exchange)
    with pytest.raises(Conflict) as caught:
        exchange.commit("zero@x.io", "p", "feat: b", sha=SHA_deadbeef)
    assert caught.value.message.startswith(
        f"commit {SHA_deadbeef[:12]}… was already paid: 135.00 tokens to zero for 'fix: a' in p")
    assert caught.value.message.endswith("nothing changed")
    assert snapshot(exchange) == before


def test_unknown_author_writes_nothing(exchange):
    """A commit by an author no agent owns is InvalidInput and writes nothing."""
    before = snapshot(exchange)
    with pytest.raises(InvalidInput, match="unknown commit author"):
        exchange.commit("stranger@example.com", "p", "fix: x")
    assert snapshot(exchange) == before


def test_contract_budget_caps_then_exhausts(tmp_path, clock):
    """A reward larger than the contract budget is capped with a note, then the empty budget refuses
    with BudgetExhausted."""
    (tmp_path / ".exchange").mkdir()
    (tmp_path / ".exchange" / "config.toml").write_text(
        default_config_text().replace("budget = 10000", "budget = 100"))
    init_exchange(tmp_path, clock=clock)  # keeps the edited config; funds 100
    with open_exchange(tmp_path, clock=clock) as ex2:
        first = ex2.commit("claude@x.io", "misc", "work")  # reward 150, capped at 100
        assert (first.amount, first.reward) == (100 * T, 150 * T) and first.note
        before = snapshot(ex2)
        with pytest.raises(BudgetExhausted, match="budget exhausted"):
            ex2.commit("claude@x.io", "misc", "more work")
        assert snapshot(ex2) == before
        assert_invariants(ex2)


def test_llm_charges_the_preferred_model(exchange):
    """An LLM call charges the task's preferred model's price into system:inference."""
    charge = exchange.llm("zero", "coding", 5000)
    assert (charge.model, charge.amount, charge.tokens) == ("llama3.2", T / 2,
                                                            10_000 * T - T / 2)
    assert exchange.balance("zero").spent == T / 2
    assert account(exchange, "system:inference").balance == MICRO // 2


def test_refusals_change_no_balance_and_are_recorded(exchange):
    """A rate-limit refusal moves no tokens, uses the seed's words and is recorded as a refusal
    event."""
    before = snapshot(exchange)
    with pytest.raises(RateLimited) as caught:
        exchange.llm("claude", "coding", 44000)
    assert caught.value.kind == "burst"
    assert str(caught.value) == "Exceeds burst limit (660.00 > 500)"
    assert snapshot(exchange) == before
    events = exchange.refusals("claude")
    assert [(e.code, e.amount) for e in events] == [("burst_limit", 660 * T)]


def test_hourly_limit_in_the_seeds_words(exchange):
    """The hourly limit refuses a call that would exceed it, in the seed's words (with
    thousands separated, as every human output shows numbers)."""
    for _ in range(6):
        exchange.llm("claude", "coding", 9000)  # 135 each: 810 in all
    seed_words = r"Hourly limit reached \(810.00/1,000 used, need 195.00\)"
    with pytest.raises(RateLimited, match=seed_words):
        exchange.llm("claude", "coding", 13000)


def test_reserve_blocks_outflows(exchange):
    """Outflows that would breach the emergency reserve or exceed the balance are refused and change
    nothing."""
    pool = exchange.pool_create("p", "zero", 1)
    exchange.pool_contribute(pool.id, "zero", 9_500)
    before = snapshot(exchange)
    with pytest.raises(InsufficientFunds, match="Would breach emergency reserve"):
        exchange.pool_contribute(pool.id, "zero", 1)
    with pytest.raises(InsufficientFunds, match="Insufficient funds"):
        exchange.pool_contribute(pool.id, "zero", 501)
    assert snapshot(exchange) == before


def test_award_mints_into_the_wallet(exchange):
    """An award mints new tokens into the agent's wallet as earnings."""
    paid = exchange.award("builder", "150", "beads-integration", "Closed issue")
    assert paid.amount == 150 * T and exchange.balance("builder").earned == 150 * T
    assert_invariants(exchange)


@pytest.mark.parametrize("agent", ["nobody", "../etc/passwd", "x'; DROP TABLE accounts;--",
                                   "Claude", "", "é"])
def test_bad_agent_names_are_invalid_input(exchange, agent):
    """Unknown or malformed agent names are InvalidInput for reads and writes and change nothing."""
    before = snapshot(exchange)
    with pytest.raises(InvalidInput):
        exchange.balance(agent)
    with pytest.raises(InvalidInput):
        exchange.award(agent, 1, "s", "d")
    assert snapshot(exchange) == before


def test_unknown_model_is_invalid_input(exchange):
    """An LLM call naming an unknown model is InvalidInput."""
    with pytest.raises(InvalidInput, match="unknown model"):
        exchange.llm("zero", "coding", 10, model="gpt-9")


def test_idempotency_key_replays_first_result_and_first_refusal(exchange):
    """An idempotency key replays its first result or refusal, and a different request under it is a
    Conflict."""
    first = exchange.llm("zero", "coding", 1000, idempotency_key="req-1")
    again = exchange.llm("zero", "coding", 1000, idempotency_key="req-1")
    assert again == replace(first, replayed=True)
    assert exchange.balance("zero").spent == first.amount
    with pytest.raises(Conflict):
        exchange.llm("zero", "coding", 2000, idempotency_key="req-1")
    with pytest.raises(RateLimited):
        exchange.llm("claude", "coding", 44000, idempotency_key="req-2")
    # Even a request that would now pass replays the first refusal under the same key.
    with pytest.raises(RateLimited, match="burst"):
        exchange.llm("claude", "coding", 44000, idempotency_key="req-2")
    assert_invariants(exchange)


def test_pool_lifecycle_draws_stakes_pro_rata_and_returns_them(exchange):
    """A pool spends only with two members staking its minimum, draws from the stakes pro
    rata, returns what is left of each stake on dissolve and then refuses contributions."""
    pool = exchange.pool_create("opus-team", "claude", 100)
    exchange.pool_invite(pool.id, "builder")
    exchange.pool_join(pool.id, "builder")
    exchange.pool_contribute(pool.id, "claude", 600)
    with pytest.raises(NotAllowed, match="needs 2 members with a stake"):
        exchange.pool_spend(pool.id, "claude-opus", 10000, "alone")
    exchange.pool_contribute(pool.id, "builder", 400)
    spend = exchange.pool_spend(pool.id, "claude-opus", 10000, "complex analysis")
    credits = {c.agent: (c.credited, c.share_percent) for c in spend.credits}
    assert credits == {"claude": (90 * T, "60.00"), "builder": (60 * T, "40.00")}
    assert spend.pool_balance == 850 * T
    done = exchange.pool_dissolve(pool.id)
    assert {r.agent: r.amount for r in done.refunds} == {"claude": 510 * T, "builder": 340 * T}
    assert exchange.balance("claude").tokens == 10_000 * T - 90 * T
    assert exchange.balance("claude").spent == 90 * T
    with pytest.raises(NotAllowed, match="dissolved"):
        exchange.pool_contribute(pool.id, "claude", 100)
    assert_invariants(exchange)


def test_pool_rules_refuse_non_members_small_and_oversized(exchange):
    """A pool refuses non-members, contributions below its minimum, spends above its balance and
    unknown pool ids."""
    pool = exchange.pool_create("p", "claude", 100, open=True)
    with pytest.raises(NotAllowed, match="not a member"):
        exchange.pool_contribute(pool.id, "zero", 200)
    with pytest.raises(NotAllowed, match="below"):
        exchange.pool_contribute(pool.id, "claude", 50)
    exchange.pool_join(pool.id, "zero")
    exchange.pool_contribute(pool.id, "claude", 100)
    exchange.pool_contribute(pool.id, "zero", 100)
    with pytest.raises(InsufficientFunds, match="Insufficient funds in pool-1"):
        exchange.pool_spend(pool.id, "claude-opus", 20000, "too big")  # 300 > 200
    with pytest.raises(InvalidInput, match="unknown pool"):
        exchange.pool_show("pool-99")
    assert_invariants(exchange)


def test_dissolve_refund_is_exact_to_the_micro_token(exchange):
    """Dissolving a pool refunds exactly what is left, to the micro-token."""
    pool = exchange.pool_create("p", "claude", "0.000001", open=True)
    for agent in ("builder", "zero"):
        exchange.pool_join(pool.id, agent)
    for agent in ("claude", "builder", "zero"):
        exchange.pool_contribute(pool.id, agent, "1")
    exchange.pool_spend(pool.id, "llama3.2", 1, "tiny")  # 0.0001 spent
    done = exchange.pool_dissolve(pool.id)
    assert sum(r.amount for r in done.refunds) == 3 * T - Decimal("0.0001")
    assert_invariants(exchange)


def test_issue_pays_once(exchange):
    """A P2 bug pays 450 tokens, and paying the same issue again pays nothing more."""
    first = exchange.pay_issue("bd-1", "zero", priority=2, issue_type="bug")
    again = exchange.pay_issue("bd-1", "zero", priority=2, issue_type="bug")
    assert first.amount == again.amount == 450 * T
    assert exchange.balance("zero").earned == 450 * T


def test_history_shows_the_seeds_wallet_view(exchange):
    """History lists an agent's transfers newest first with type, project and signed amount, as in
    the seed's wallet view."""
    exchange.commit("zero@x.io", "claude-monitor", "docs: readme")
    exchange.llm("zero", "coding", 1000)
    newest, earning, grant = exchange.history("zero", limit=3)
    assert (newest.type, newest.amount) == ("inference", Decimal("-0.1"))
    # 90 × 1.5 (claude-monitor) × 1.1 (docs) = 148.5 tokens
    assert (earning.type, earning.project, earning.amount) == ("commit", "claude-monitor",
                                                                Decimal("148.5"))
    assert grant.type == "grant"


def test_a_spends_remainder_goes_to_the_largest_remainder_and_dissolve_returns_stakes(exchange):
    """A spend's draws are floored and the micro-token left goes to the largest remainder;
    dissolving then returns each stake exactly."""
    pool = exchange.pool_create("p", "claude", 1, open=True)
    exchange.pool_join(pool.id, "builder")
    exchange.pool_contribute(pool.id, "claude", 2)
    exchange.pool_contribute(pool.id, "builder", 1)
    spend = exchange.pool_spend(pool.id, "llama3.2", 1, "tiny")  # 100 micro-tokens
    # 100 split 2:1 is 66.67 / 33.33: floors 66 and 33, the last micro-token to claude.
    assert {c.agent: c.credited for c in spend.credits} == {
        "claude": Decimal("0.000067"), "builder": Decimal("0.000033")}
    refunds = {r.agent: r.amount for r in exchange.pool_dissolve(pool.id).refunds}
    assert refunds == {"claude": Decimal("1.999933"), "builder": Decimal("0.999967")}


def test_a_reward_of_nothing_settles_without_a_transfer(tmp_path, clock):
    """A project multiplier of 0 earns nothing: the commit is settled, no transfer written."""
    (tmp_path / ".exchange").mkdir()
    (tmp_path / ".exchange" / "config.toml").write_text(default_config_text().replace(
        'multiplier = 1.0\nbudget = 10000', 'multiplier = 0\nbudget = 10000'))
    init_exchange(tmp_path, clock=clock)
    with open_exchange(tmp_path, clock=clock) as ex:
        before = ex.recent_transfers(1)
        paid = ex.commit("zero@x.io", "misc", "work", sha=SHA_abcd1234)
        assert paid.amount == 0 and "nothing" in paid.note
        assert ex.recent_transfers(1) == before
        assert ex.commit("zero@x.io", "misc", "work", sha=SHA_abcd1234) == replace(
            paid, replayed=True)
        assert_invariants(ex)


def test_a_keys_first_result_is_kept_exactly_and_replayed_as_it_was(exchange):
    """The ledger keeps a key's first result in micro-tokens and microseconds (the format
    earlier versions wrote, so their keys still replay), and a replay returns the very
    record, Decimal tokens and all."""
    first = exchange.pool_create("p", "claude", "0.5", idempotency_key="pool-a")
    kept = kept_result(exchange, "client:pool-a")
    assert kept["min_contribution"] == 500_000 and kept["created_at"] == first.created_at
    again = exchange.pool_create("p", "claude", "0.5", idempotency_key="pool-a")
    assert again == replace(first, replayed=True) and again.min_contribution == Decimal("0.5")
