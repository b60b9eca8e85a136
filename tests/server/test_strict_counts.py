"""A count of inference tokens is an integer (or its decimal string), never JSON true
(issue 10, finding 11): pydantic's lax mode read true as 1."""

from __future__ import annotations

import pytest

from .conftest import Service


@pytest.mark.parametrize("count", [True, False, 1.0])
def test_a_boolean_or_float_token_count_is_bad_input(fresh_service: Service, count):
    """A boolean or float token count is bad input."""
    with fresh_service.as_agent("claude") as http:
        pool = http.post("/v1/pools", json={"name": "p", "creator": "claude",
                                            "min_contribution": "1"})
        assert pool.status_code == 200, pool.text
        before = fresh_service.ledger_state()
        spend = http.post("/v1/agents/claude/llm",
                          json={"task_type": "coding", "token_count": count})
        pool_spend = http.post(f"/v1/pools/{pool.json()['id']}/spend", json={
            "model": "claude-opus", "token_count": count, "description": "x"})
    for response in (spend, pool_spend):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_input"
        assert response.json()["error"]["message"].startswith("token_count")
    assert fresh_service.ledger_state() == before  # nothing was charged


def test_an_integer_or_its_string_still_counts(fresh_service: Service):
    """An integer or its string still counts."""
    with fresh_service.as_agent("claude") as http:
        for count in (1000, "1000"):
            response = http.post("/v1/agents/claude/llm",
                                 json={"task_type": "coding", "token_count": count})
            assert response.status_code == 200, response.text
            assert response.json()["amount"] == "15"
