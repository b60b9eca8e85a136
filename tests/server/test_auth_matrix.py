"""Every write route against every kind of caller: no key, a wrong key, another agent's
key, and the rightful key (the agent's own, or an admin's). Refused callers change
nothing: not a balance, not a transfer, not a refusal event, not a pool."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .conftest import Service, start_service


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    body: dict | None
    owner: str | None  # the agent whose key may call it; None = admin only
    intruder: str  # a valid agent key that must be refused (403)
    # A rule of the exchange itself, not the key's rights, refuses the intruder: the
    # service refuses a non-member's pool spend or a non-creator's invitation (402
    # not_allowed, a refusal event kept).
    by_rule: bool = False


ROUTES = [
    Route("llm", "/v1/agents/claude/llm", {"task_type": "coding", "token_count": 1000},
          "claude", "builder"),
    Route("commit", "/v1/commits", {"author_email": "claude@aygp-dr.ai", "project": "demo",
                                    "message": "feat: a thing"}, None, "claude"),
    Route("award", "/v1/awards", {"agent": "claude", "amount": "5", "source": "test",
                                  "description": "matrix"}, None, "claude"),
    Route("issue", "/v1/issues", {"issue_id": "bd-9", "agent": "claude", "priority": 2,
                                  "issue_type": "bug"}, None, "claude"),
    Route("pool create", "/v1/pools", {"name": "team", "creator": "claude",
                                       "min_contribution": "10"}, "claude", "builder"),
    Route("pool invite", "/v1/pools/pool-1/invite", {"agent": "observer"}, "claude",
          "builder", by_rule=True),  # builder is a member of pool-1, not its creator
    Route("pool join", "/v1/pools/pool-1/join", {"agent": "spark"}, "spark", "zero"),
    Route("pool contribute", "/v1/pools/pool-1/contribute", {"agent": "claude",
                                                             "amount": "10"},
          "claude", "builder"),
    Route("pool spend", "/v1/pools/pool-1/spend", {"model": "llama3.2", "token_count": 1000,
                                                   "description": "matrix"},
          "claude", "lambda", by_rule=True),  # lambda is not a member of pool-1
    Route("pool leave", "/v1/pools/pool-2/leave", {"agent": "builder"}, "builder", "claude"),
    Route("pool dissolve", "/v1/pools/pool-2/dissolve", None, "claude",
          "builder"),  # builder is a member of pool-2, not its creator
    Route("doctor", "/v1/doctor", {"fix": True}, None, "claude"),
]
WRONG_KEYS = ["atx_000000000000_" + "A" * 43, "not-a-key", "atx_"]


@pytest.fixture(scope="module")
def matrix_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """pool-1 and pool-2 (claude + builder, invited, both contributed); spark is invited to
    pool-1."""
    svc, server = start_service(tmp_path_factory.mktemp("matrix"))
    with svc.as_admin() as http:
        for pool in ("pool-1", "pool-2"):
            assert http.post("/v1/pools", json={"name": pool, "creator": "claude",
                                                "min_contribution": "10"}).status_code == 200
            http.post(f"/v1/pools/{pool}/invite", json={"agent": "builder"})
            http.post(f"/v1/pools/{pool}/join", json={"agent": "builder"})
            for agent in ("claude", "builder"):
                http.post(f"/v1/pools/{pool}/contribute", json={"agent": agent,
                                                                "amount": "100"})
        http.post("/v1/pools/pool-1/invite", json={"agent": "spark"})
    yield svc
    server.stop()


def post(svc: Service, route: Route, key: str | None, headers: dict | None = None):
    with svc.client(key) as http:
        return http.post(route.path, json=route.body, headers=headers or {})


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_no_key_or_a_wrong_key_is_401_and_changes_nothing(matrix_service: Service, route):
    """Every write route answers a missing, malformed or non-bearer key with 401 unauthenticated and
    changes nothing."""
    before = matrix_service.ledger_state()
    assert post(matrix_service, route, None).status_code == 401
    for wrong in WRONG_KEYS:
        response = post(matrix_service, route, None,
                        headers={"Authorization": f"Bearer {wrong}"})
        assert response.status_code == 401, wrong
        assert response.json()["error"]["code"] == "unauthenticated"
    basic = post(matrix_service, route, None, headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401
    assert matrix_service.ledger_state() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.by_rule], ids=lambda r: r.name)
def test_another_agents_key_is_403_and_changes_nothing(matrix_service: Service, route):
    """A key acting beyond its rights is 403 and the ledger is as it was."""
    before = matrix_service.ledger_state()
    response = post(matrix_service, route, matrix_service.keys[route.intruder])
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert matrix_service.ledger_state() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r.by_rule], ids=lambda r: r.name)
def test_a_pool_rule_refuses_the_intruder_and_moves_nothing(matrix_service: Service,
                                                                   route):
    """A non-member's pool spend, or a member's invitation to a pool it did not create, is
    refused by the service's pool rules (402 not_allowed): no balance, transfer or pool
    changes; only the refusal event is recorded."""
    accounts, seq, refusal_seq, pools = matrix_service.ledger_state()
    response = post(matrix_service, route, matrix_service.keys[route.intruder])
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "not_allowed"
    assert matrix_service.ledger_state() == (accounts, seq, refusal_seq + 1, pools)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_the_rightful_key_is_served(matrix_service: Service, route):
    """The owner's key (or an admin key for admin routes) goes through: 200."""
    key = matrix_service.keys[route.owner] if route.owner else matrix_service.admin
    response = post(matrix_service, route, key)
    assert response.status_code == 200, response.text


def test_an_admin_key_may_act_for_any_agent(matrix_service: Service):
    """An admin key may spend on behalf of any agent."""
    with matrix_service.as_admin() as http:
        response = http.post("/v1/agents/zero/llm", json={"task_type": "coding",
                                                          "token_count": 1000})
    assert response.status_code == 200


def test_an_agent_reads_only_its_own_history(matrix_service: Service):
    """An agent key reads its own history but gets 403 for another agent's history, doctor and
    refusals; no key gets 401."""
    with matrix_service.as_agent("claude") as http:
        assert http.get("/v1/agents/claude/history").status_code == 200
        assert http.get("/v1/agents/builder/history").status_code == 403
        assert http.get("/v1/doctor").status_code == 403
        assert http.get("/v1/refusals", params={"agent": "builder"}).status_code == 403
    with matrix_service.client() as http:
        assert http.get("/v1/agents").status_code == 401
