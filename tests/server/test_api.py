"""The HTTP API through a real uvicorn server: reads, writes, error statuses, idempotency,
live events."""

from __future__ import annotations

import json

import httpx

from agent_token_exchange import open_exchange
from agent_token_exchange.ledger import SCHEMA_VERSION
from agent_token_exchange.server.events import latest_cursor

from .conftest import Service

SHA_abc123 = "abc123".ljust(40, "0")  # a full object id

LLM = {"task_type": "coding", "token_count": 5000}


def read_events(svc: Service, key: str, after: str, count: int) -> list[tuple[str, dict]]:
    """The first ``count`` events after ``after``, from the live stream."""
    with svc.client(key) as http:
        response = http.get("/v1/events", params={"after": after, "max_events": count})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for frame in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines()
                     if line.startswith(("event: ", "data: ")))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_health_docs_and_openapi_need_no_key(service: Service):
    """/health, /docs and /openapi.json answer without a key; the API lists /v1 routes."""
    with service.client() as http:
        assert http.get("/health").json() == {"status": "ok",
                                              "schema_version": SCHEMA_VERSION}
        assert "swagger" in http.get("/docs").text.lower()
        paths = http.get("/openapi.json").json()["paths"]
    for path in ("/v1/agents", "/v1/agents/{agent}", "/v1/agents/{agent}/history",
                 "/v1/agents/{agent}/limits", "/v1/agents/{agent}/llm", "/v1/commits",
                 "/v1/awards", "/v1/pools", "/v1/pools/{pool_id}/join",
                 "/v1/pools/{pool_id}/contribute", "/v1/pools/{pool_id}/spend",
                 "/v1/pools/{pool_id}/dissolve", "/v1/pools/{pool_id}",
                 "/v1/rewards/preview", "/v1/events"):
        assert path in paths, path


def test_a_spend_through_the_api_charges_the_wallet(fresh_service: Service):
    """The seed's example: claude spends 5,000 tokens on claude-opus, 75 tokens."""
    with fresh_service.as_agent("claude") as http:
        charge = http.post("/v1/agents/claude/llm", json=LLM)
        assert charge.status_code == 200
        assert charge.json()["amount"] == "75"
        assert charge.json()["model"] == "claude-opus"
        wallet = http.get("/v1/agents/claude").json()
    assert wallet == {"agent": "claude", "tokens": "9925", "earned": "0", "spent": "75",
                      "market": "0"}
    with fresh_service.as_agent("claude") as http:
        history = http.get("/v1/agents/claude/history", params={"limit": 1}).json()
    assert history["transactions"][0]["amount"] == "-75"


def test_rate_limit_refusal_is_429_with_the_figures_and_changes_nothing(service: Service):
    """A request over the burst limit: 429, code burst_limit, used/limit/needed as strings."""
    before = service.ledger_state()
    with service.as_agent("lambda") as http:
        response = http.post("/v1/agents/lambda/llm",
                             json={"task_type": "reasoning", "token_count": 100_000})
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "burst_limit"
    assert (error["limit"], error["needed"]) == ("500", "1500")
    after = service.ledger_state()
    assert after[:2] == before[:2]  # balances and transfers unchanged
    assert after[2] == before[2] + 1  # the refusal is recorded as an event


def test_reserve_refusal_is_402(service: Service):
    """Contributing past the emergency reserve is refused by rule: 402."""
    with service.as_agent("observer") as http:
        pool = http.post("/v1/pools", json={"name": "big", "creator": "observer",
                                            "min_contribution": "1"}).json()
        response = http.post(f"/v1/pools/{pool['id']}/contribute",
                             json={"agent": "observer", "amount": "9999"})
    assert response.status_code == 402
    assert response.json()["ok"] is False
    assert "reserve" in response.json()["error"]["message"].lower()


def test_unknown_agent_and_pool_are_404_bad_input_422(service: Service):
    """Unknown agents and pools are 404 not_found; bad or incomplete bodies, including an unknown
    agent in a body, are 422."""
    with service.as_admin() as http:
        assert http.get("/v1/agents/nobody").status_code == 404
        assert http.get("/v1/agents/nobody").json()["error"]["code"] == "not_found"
        assert http.get("/v1/pools/pool-999").status_code == 404
        assert http.get("/v1/pools/not-a-pool").status_code == 404
        bad = http.post("/v1/awards", json={"agent": "zero", "amount": "-5", "source": "x",
                                            "description": "y"})
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "invalid_input"
        missing = http.post("/v1/awards", json={"agent": "zero"})
        assert missing.status_code == 422
        assert missing.json()["ok"] is False
        unknown_body_agent = http.post("/v1/awards", json={
            "agent": "nobody", "amount": "5", "source": "x", "description": "y"})
        assert unknown_body_agent.status_code == 422


def test_idempotency_key_replays_the_first_result_and_conflicts_on_change(service: Service):
    """Same key, same request: the first result marked as a replay, charged once. Same key,
    other request: 409 in plain words."""
    headers = {"Idempotency-Key": "api-test-1"}
    with service.as_agent("spark") as http:
        first = http.post("/v1/agents/spark/llm", json=LLM, headers=headers)
        again = http.post("/v1/agents/spark/llm", json=LLM, headers=headers)
        assert first.json()["replayed"] is False
        assert again.json() == {**first.json(), "replayed": True}
        assert http.get("/v1/agents/spark").json()["spent"] == first.json()["amount"]
        other = http.post("/v1/agents/spark/llm", headers=headers,
                          json={"task_type": "coding", "token_count": 6000})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert other.json()["error"]["message"].startswith(
        "idempotency key 'api-test-1' was already used for a different request")


def test_admin_routes_pay_commits_awards_and_issues(fresh_service: Service):
    """Admin routes pay commits, awards and issues at the seed's rates, preview rewards and run
    doctor."""
    with fresh_service.as_admin() as http:
        commit = http.post("/v1/commits", json={
            "author_email": "claude@aygp-dr.ai", "project": "nexushive-setup",
            "message": "hotfix: critical security patch", "sha": SHA_abc123}).json()
        award = http.post("/v1/awards", json={"agent": "builder", "amount": "150",
                                              "source": "beads", "description": "x"}).json()
        issue = http.post("/v1/issues", json={"issue_id": "bd-1", "agent": "zero",
                                              "priority": 2, "issue_type": "bug"}).json()
        preview = http.get("/v1/rewards/preview", params={
            "agent": "claude", "project": "nexushive-setup", "message": "fix: x"}).json()
        doctor = http.get("/v1/doctor").json()
    assert commit["amount"] == "600"  # 150 × 2.0 (contract) × 2.0 (hotfix)
    assert award["tokens"] == "10150"
    assert issue["amount"] == "450"  # the seed's P2 bug
    assert preview["contract"] == "nexushive-setup"
    assert doctor["healthy"] is True


def test_events_stream_transfers_and_refusals_as_they_happen(fresh_service: Service):
    """A spend and a refusal made after the stream's cursor arrive as events, in order."""
    with open_exchange(fresh_service.home) as ex:
        cursor = latest_cursor(ex).event_id
    with fresh_service.as_agent("zero") as http:
        http.post("/v1/agents/zero/llm", json=LLM)
        http.post("/v1/agents/zero/llm", json={"task_type": "coding", "token_count": 10**7})
    # A write that bypasses the server (another process's connection) is an event too.
    with open_exchange(fresh_service.home) as ex:
        ex.award("spark", "7", "hook", "from elsewhere")
    events = read_events(fresh_service, fresh_service.admin, cursor, 3)
    assert [name for name, _ in events] == ["transfer", "refusal", "transfer"]
    assert events[0][1]["source"] == "agent:zero"
    assert events[0][1]["amount"] == "0.5"
    assert events[1][1]["code"] == "burst_limit"
    assert (events[2][1]["destination"], events[2][1]["amount"]) == ("agent:spark", "7")


def test_an_agents_event_stream_shows_only_its_own_wallet(fresh_service: Service):
    """An agent's event stream carries only transfers into or out of its own wallet."""
    with fresh_service.as_admin() as http:
        for agent in ("claude", "zero"):
            http.post("/v1/awards", json={"agent": agent, "amount": "1", "source": "t",
                                          "description": "d"})
    events = read_events(fresh_service, fresh_service.keys["zero"], "0.0", 2)
    assert [data["destination"] for _, data in events] == ["agent:zero", "agent:zero"]
    assert events[1][1]["kind"] == "award"


def test_a_revoked_key_is_refused_within_a_second(fresh_service: Service):
    """A key revoked (by another process's connection) while a client holds it is refused
    with 401 within a second (the server keeps a key for at most a second), reads and
    writes alike."""
    import time

    with fresh_service.as_agent("claude") as http:
        assert http.get("/v1/whoami").json()["agent"] == "claude"
        with open_exchange(fresh_service.home) as ex:
            (key,) = [k for k in ex.keys.list() if k.agent == "claude"]
            ex.keys.revoke(key.key_id)
        revoked = time.monotonic()
        while http.get("/v1/whoami").status_code != 401:
            assert time.monotonic() - revoked < 1.2, "a revoked key still worked after 1 s"
            time.sleep(0.05)
        spend = {"task_type": "coding", "token_count": 10}
        assert http.post("/v1/agents/claude/llm", json=spend).status_code == 401


def test_concurrent_spends_keep_the_hourly_limit_exact(fresh_service: Service):
    """20 parallel 75-token spends against a 1,000 hourly limit: exactly 13 pass."""
    import concurrent.futures

    def spend(_: int) -> int:
        with httpx.Client(base_url=fresh_service.url, timeout=30, headers={
                "Authorization": f"Bearer {fresh_service.keys['claude']}"}) as http:
            return http.post("/v1/agents/claude/llm", json=LLM).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(spend, range(20)))
    assert codes.count(200) == 13
    assert codes.count(429) == 7
    with fresh_service.as_agent("claude") as http:
        assert http.get("/v1/agents/claude/limits").json()["hourly_used"] == "975"
