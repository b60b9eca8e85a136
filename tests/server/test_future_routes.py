"""The futures routes against a real server on each store: an agent's key acts only as
itself (403 otherwise, nothing changed), an admin key acts for anyone, the rules refuse
the rest (402 not_allowed), every key reads the board, and ``ExchangeClient`` speaks it
with the library's records and exceptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent_token_exchange import NotAllowed, open_exchange
from agent_token_exchange.client.http import ExchangeClient

from ..ledger_checks import assert_invariants
from .conftest import RunningServer, Service

OPEN = {"buyer": "claude", "work": "manual", "price": "300", "collateral": "100",
        "deadline_hours": "24h"}


@pytest.fixture
def futures_service(home) -> Iterator[Service]:
    """A server over the parametrised store with an admin key and one key per agent."""
    with open_exchange(home) as ex:
        admin = ex.keys.create(admin=True).key
        keys = {agent: ex.keys.create(agent=agent).key for agent in ex.agents()}
    server = RunningServer(home)
    try:
        yield Service(home, server.url, admin, keys)
    finally:
        server.stop()


def test_the_client_opens_accepts_and_confirms_with_each_partys_key(futures_service):
    """claude's key opens and confirms, builder's key accepts: the client returns the
    library's records, and the ledger stays whole."""
    svc = futures_service
    with ExchangeClient(svc.url, svc.keys["claude"]) as claude, \
            ExchangeClient(svc.url, svc.keys["builder"]) as builder:
        opened = claude.future_open("claude", "manual", price=300, collateral=100,
                                    deadline_hours=24, idempotency_key="f-1")
        assert (opened.id, opened.status, opened.escrow) == ("future-1", "open", 300)
        again = claude.future_open("claude", "manual", price=300, collateral=100,
                                   deadline_hours=24, idempotency_key="f-1")
        assert again.replayed and again.id == "future-1"
        assert builder.future_accept("future-1", "builder").seller == "builder"
        with pytest.raises(NotAllowed, match="only future-1's buyer"):
            builder.future_confirm("future-1")
        done = claude.future_confirm("future-1")
        assert done.status == "delivered"
        assert builder.future_show("future-1") == done
        assert [f.id for f in builder.futures("builder")] == ["future-1"]
    with open_exchange(svc.home) as ex:
        assert ex.balance("builder").tokens == 10_300
        assert_invariants(ex)


def test_an_agents_key_acts_only_as_itself(futures_service):
    """builder's key may not open as claude nor accept as zero (403, nothing changed);
    cancelling claude's future as itself is refused by the rule (402); no key is 401."""
    svc = futures_service
    with svc.as_agent("builder") as http:
        response = http.post("/v1/futures", json=OPEN)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    with svc.as_agent("claude") as http:
        assert http.post("/v1/futures", json=OPEN).status_code == 200
    before = svc.ledger_state()
    with svc.as_agent("builder") as http:
        assert http.post("/v1/futures/future-1/accept",
                         json={"seller": "zero"}).status_code == 403
        assert http.post("/v1/futures/future-1/confirm", json={"agent": "claude"}
                         ).status_code == 403
        refused = http.post("/v1/futures/future-1/cancel", json={})
        assert refused.status_code == 402
        assert refused.json()["error"]["code"] == "not_allowed"
    with svc.client() as http:
        assert http.post("/v1/futures/future-1/cancel", json={}).status_code == 401
        assert http.get("/v1/futures").status_code == 401
    after = svc.ledger_state()
    assert after[:2] == before[:2]  # balances and transfers unchanged


def test_an_admin_key_acts_for_any_agent(futures_service):
    """An admin key opens for claude, accepts for zero and cancels as the buyer by default."""
    svc = futures_service
    with svc.as_admin() as http:
        assert http.post("/v1/futures", json=OPEN).status_code == 200
        assert http.post("/v1/futures", json=OPEN).json()["id"] == "future-2"
        accepted = http.post("/v1/futures/future-1/accept", json={"seller": "zero"})
        assert accepted.json()["seller"] == "zero"
        cancelled = http.post("/v1/futures/future-2/cancel", json={})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_every_key_reads_the_board_and_unknowns_are_404(futures_service):
    """Any agent's key lists and shows every future; an unknown future or agent is 404,
    and bad input is 422 in one line."""
    svc = futures_service
    with svc.as_agent("claude") as http:
        http.post("/v1/futures", json={**OPEN, "seller": "zero"})
    with svc.as_agent("spark") as http:
        listed = http.get("/v1/futures").json()["futures"]
        assert [(f["id"], f["named_seller"]) for f in listed] == [("future-1", "zero")]
        assert http.get("/v1/futures/future-1").json()["price"] == "300"
        assert http.get("/v1/futures?agent=spark").json() == {"futures": []}
        assert http.get("/v1/futures/future-9").status_code == 404
        assert http.get("/v1/futures?agent=nobody").status_code == 404
        assert http.post("/v1/futures/future-9/accept",
                         json={"seller": "spark"}).status_code == 404
    with svc.as_agent("claude") as http:
        bad = http.post("/v1/futures", json={**OPEN, "work": "commit:(?=x)"})
        assert bad.status_code == 422
        assert "not a valid linear-time" in bad.json()["error"]["message"]
        late = http.post("/v1/futures", json={**OPEN, "deadline_hours": "0h"})
        assert late.status_code == 422
