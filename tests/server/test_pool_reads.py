"""Pool routes read the pool once per request (they used to read it twice: once to check it
exists, once for the answer or the caller's rights)."""

from __future__ import annotations

import pytest

from agent_token_exchange.service.exchange import Exchange

from .conftest import Service


@pytest.fixture
def pool_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts Exchange.pool_show calls in the server (uvicorn runs in this process's
    threads); the real method still answers."""
    calls: list[str] = []
    real = Exchange.pool_show

    def counted(self: Exchange, pool_id: str, **kwargs):
        calls.append(pool_id)
        return real(self, pool_id, **kwargs)

    monkeypatch.setattr(Exchange, "pool_show", counted)
    return calls


def test_each_pool_route_reads_the_pool_once(fresh_service: Service, pool_reads: list[str]):
    """Each pool route (show, spend, dissolve) reads the pool once per request."""
    with fresh_service.as_agent("claude") as claude:
        assert claude.post("/v1/pools", json={"name": "opus", "creator": "claude",
                                              "min_contribution": "10"}).status_code == 200
        assert claude.post("/v1/pools/pool-1/contribute",
                           json={"agent": "claude", "amount": "50"}).status_code == 200
        assert claude.post("/v1/pools/pool-1/invite",
                           json={"agent": "builder"}).status_code == 200
    with fresh_service.as_agent("builder") as builder:  # a pool spends with 2 contributors
        assert builder.post("/v1/pools/pool-1/join", json={"agent": "builder"}).status_code == 200
        assert builder.post("/v1/pools/pool-1/contribute",
                            json={"agent": "builder", "amount": "50"}).status_code == 200
    with fresh_service.as_agent("claude") as claude:
        pool_reads.clear()
        assert claude.get("/v1/pools/pool-1").json()["id"] == "pool-1"
        assert pool_reads == ["pool-1"]
        pool_reads.clear()
        spend = claude.post("/v1/pools/pool-1/spend", json={
            "model": "claude-opus", "token_count": 1000, "description": "x"})
        assert spend.status_code == 200, spend.text
        assert pool_reads == ["pool-1"]
        pool_reads.clear()
        assert claude.post("/v1/pools/pool-1/dissolve").status_code == 200
        assert pool_reads == ["pool-1"]
        assert claude.get("/v1/pools/pool-9").status_code == 404
    with fresh_service.as_agent("zero") as zero:  # not a member, not the creator: refused
        assert zero.post("/v1/pools/pool-1/dissolve").status_code == 403
