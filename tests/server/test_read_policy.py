"""What a key may read (issue 10, finding 10; the rule is service/access.py), route by
route, against a real server on each store: an agent's key reads the team's status table,
its own wallet, history, limits, refusals and transfers, and its own or open pools;
another agent's are 403, and its lists hold only its own rows. An admin reads all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent_token_exchange import RateLimited, open_exchange

from .conftest import RunningServer, Service

OWN, OTHER, ADMIN = "own", "other", "admin"


@pytest.fixture
def store_service(home) -> Iterator[Service]:
    """A server over the parametrised store, with a ledger where claude was refused, claude
    runs an invite-only pool (builder invited), zero an open pool, and lambda a pool of its
    own no one else has part in. (On the system clock, as the server runs.)"""
    with open_exchange(home) as ex:
        admin = ex.keys.create(admin=True).key
        keys = {agent: ex.keys.create(agent=agent).key for agent in ex.agents()}
        with pytest.raises(RateLimited):
            ex.llm("claude", "coding", 10**6, "claude-opus")
        ex.pool_create("claude-team", "claude", "1")
        ex.pool_invite("pool-1", "builder")
        ex.pool_create("anyone", "zero", "1", open=True)
        ex.pool_create("lambda-only", "lambda", "1")
        ex.award("builder", "5", "t", "for builder")
    server = RunningServer(home)
    try:
        yield Service(home, server.url, admin, keys)
    finally:
        server.stop()


# (route, what each caller gets reading claude's): claude's own key, builder's key, admin.
MATRIX = [
    ("/v1/agents", {OWN: 200, OTHER: 200, ADMIN: 200}),  # the team's status table
    ("/v1/agents/claude", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/agents/claude/history", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/agents/claude/limits", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/refusals?agent=claude", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/refusals?agent=claude&after=0", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/transfers?agent=claude", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/pools?agent=claude", {OWN: 200, OTHER: 403, ADMIN: 200}),
    ("/v1/pools/pool-1", {OWN: 200, OTHER: 200, ADMIN: 200}),  # builder is invited
    ("/v1/pools/pool-2", {OWN: 200, OTHER: 200, ADMIN: 200}),  # open to all
    ("/v1/pools/pool-3", {OWN: 403, OTHER: 403, ADMIN: 200}),  # lambda's alone
    ("/v1/rewards/preview?agent=claude&project=x&message=fix", {OWN: 200, OTHER: 200,
                                                                 ADMIN: 200}),
    ("/v1/contracts/default/budget", {OWN: 200, OTHER: 200, ADMIN: 200}),
    ("/v1/doctor", {OWN: 403, OTHER: 403, ADMIN: 200}),
    ("/v1/audit", {OWN: 403, OTHER: 403, ADMIN: 200}),
    ("/v1/config", {OWN: 403, OTHER: 403, ADMIN: 200}),
]


def _key(svc: Service, who: str) -> str:
    return {OWN: svc.keys["claude"], OTHER: svc.keys["builder"], ADMIN: svc.admin}[who]


def test_each_read_route_answers_each_caller_by_the_rule(store_service: Service):
    """Every read route gives claude's key, builder's key and an admin key the status the
    rule says, and no key 401."""
    for path, expected in MATRIX:
        for who, status in expected.items():
            with store_service.client(_key(store_service, who)) as http:
                response = http.get(path)
            assert response.status_code == status, (path, who, response.text)
            if status == 403:
                assert response.json()["error"]["code"] == "forbidden"
        with store_service.client() as http:
            assert http.get(path).status_code == 401, path


def test_finding_10_another_agents_limits_show_no_refusals(store_service: Service):
    """builder's key reading claude's limits (which hold claude's refusal counts and
    messages) is 403 and the body says nothing of them; claude's own key sees them."""
    with store_service.as_agent("builder") as builder:
        response = builder.get("/v1/agents/claude/limits")
    assert response.status_code == 403
    assert "refusal" not in response.text and "burst" not in response.text
    with store_service.as_agent("claude") as claude:
        own = claude.get("/v1/agents/claude/limits").json()
    assert own["refusals_last_day"] == 1 and own["recent_refusals"][0]["code"] == "burst_limit"


def test_an_agents_lists_hold_only_what_it_may_read(store_service: Service):
    """builder's key lists its own pools (invited to claude's, zero's open one, not
    lambda's), its own refusals (none) and only transfers touching its wallet; an admin
    lists every pool."""
    with store_service.as_agent("builder") as builder:
        pools = builder.get("/v1/pools").json()["pools"]
        refusals = builder.get("/v1/refusals").json()["refusals"]
        transfers = builder.get("/v1/transfers", params={"limit": 5000}).json()["transfers"]
    assert [p["id"] for p in pools] == ["pool-1", "pool-2"]
    assert refusals == []
    assert transfers and all("agent:builder" in (t["source"], t["destination"])
                             for t in transfers)
    with store_service.as_agent("lambda") as lam:
        assert [p["id"] for p in lam.get("/v1/pools").json()["pools"]] == ["pool-2", "pool-3"]
    with store_service.as_admin() as admin:
        assert len(admin.get("/v1/pools").json()["pools"]) == 3
        named = admin.get("/v1/pools", params={"agent": "builder"}).json()["pools"]
        assert [p["id"] for p in named] == ["pool-1", "pool-2"]


def test_a_former_member_still_reads_its_pool(store_service: Service):
    """An agent that joined and left a pool still reads it (its history is there), though
    it is no longer listed among the members."""
    with store_service.as_agent("builder") as builder:
        assert builder.post("/v1/pools/pool-1/join", json={"agent": "builder"}
                            ).status_code == 200
        assert builder.post("/v1/pools/pool-1/leave", json={"agent": "builder"}
                            ).status_code == 200
        view = builder.get("/v1/pools/pool-1")
    assert view.status_code == 200
    assert [m["agent"] for m in view.json()["members"]] == ["claude"]
