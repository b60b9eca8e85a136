"""An Idempotency-Key belongs to the caller that sent it: two agents (or an agent and an
admin) using the same key neither block nor learn about each other's writes."""

from __future__ import annotations

from .conftest import Service

LLM = {"task_type": "coding", "token_count": 5000}


def test_two_agents_may_use_the_same_key_and_each_replays_its_own(fresh_service: Service):
    """Two agents may send the same Idempotency-Key: each gets and replays its own result, and a
    changed request is still 409."""
    headers = {"Idempotency-Key": "job-1"}
    with fresh_service.as_agent("claude") as claude, \
            fresh_service.as_agent("zero") as zero:
        first = claude.post("/v1/agents/claude/llm", json=LLM, headers=headers)
        other = zero.post("/v1/agents/zero/llm", json=LLM, headers=headers)
        again = claude.post("/v1/agents/claude/llm", json=LLM, headers=headers)
        other_again = zero.post("/v1/agents/zero/llm", json=LLM, headers=headers)
        assert (first.status_code, other.status_code) == (200, 200), other.text
        assert again.json() == {**first.json(), "replayed": True}
        assert other_again.json() == {**other.json(), "replayed": True}
        assert claude.get("/v1/agents/claude").json()["spent"] == first.json()["amount"]
        assert zero.get("/v1/agents/zero").json()["spent"] == other.json()["amount"]
        # Still a conflict within one caller's own keys.
        changed = claude.post("/v1/agents/claude/llm", headers=headers,
                              json={"task_type": "coding", "token_count": 6000})
        assert changed.status_code == 409


def test_an_admins_key_is_its_own_and_a_200_character_key_still_works(
        fresh_service: Service):
    """An admin's idempotency keys are its own, a 200-character key works, and a key with spaces is
    422."""
    award = {"agent": "spark", "amount": "5", "source": "t", "description": "d"}
    long_key = "k" * 200  # the longest key a client may send
    with fresh_service.as_admin() as admin, fresh_service.as_agent("spark") as spark:
        for key in ("job-1", long_key):
            spent = spark.post("/v1/agents/spark/llm", json=LLM,
                               headers={"Idempotency-Key": key})
            paid = admin.post("/v1/awards", json=award, headers={"Idempotency-Key": key})
            replay = admin.post("/v1/awards", json=award, headers={"Idempotency-Key": key})
            assert (spent.status_code, paid.status_code) == (200, 200), paid.text
            assert replay.json() == {**paid.json(), "replayed": True}
        bad = spark.post("/v1/agents/spark/llm", json=LLM,
                         headers={"Idempotency-Key": "no spaces"})
        assert bad.status_code == 422
        assert "idempotency key" in bad.json()["error"]["message"]
        assert spark.get("/v1/agents/spark").json()["earned"] == "10"  # two awards, once each
