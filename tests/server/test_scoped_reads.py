"""An agent's key reads its own transfers and refusals, filtered in the query before the
page is cut: a page of ``limit`` rows holds that many of the agent's own, however many
other agents' rows are newer."""

from __future__ import annotations

from .conftest import Service


def test_an_agents_page_of_transfers_is_its_own_newest(fresh_service: Service):
    """`/v1/transfers?limit=3` for an agent key returns its three newest transfers, even
    when every newer transfer in the ledger is another agent's."""
    with fresh_service.as_admin() as admin:
        for n in range(2):
            assert admin.post("/v1/awards", json={"agent": "claude", "amount": "1",
                                                  "source": "t", "description": f"c{n}"}
                              ).status_code == 200
        for n in range(5):
            assert admin.post("/v1/awards", json={"agent": "zero", "amount": "1",
                                                  "source": "t", "description": f"z{n}"}
                              ).status_code == 200
        every = admin.get("/v1/transfers", params={"limit": 5000}).json()["transfers"]
    mine = [t["seq"] for t in every if "agent:claude" in (t["source"], t["destination"])]
    assert len(mine) >= 3
    with fresh_service.as_agent("claude") as claude:
        page = claude.get("/v1/transfers", params={"limit": 3}).json()["transfers"]
        assert [t["seq"] for t in page] == mine[-3:]
        after = claude.get("/v1/transfers", params={"after": 0, "limit": 2}).json()
        assert [t["seq"] for t in after["transfers"]] == mine[:2]


def test_an_agents_refusals_after_a_cursor_are_its_own(fresh_service: Service):
    """`/v1/refusals?after=0&limit=1` for an agent key returns its own first refusal, even
    when other agents were refused before it."""
    too_much = {"task_type": "coding", "token_count": 10**9}
    with fresh_service.as_admin() as admin:
        for _ in range(3):
            assert admin.post("/v1/agents/zero/llm", json=too_much).status_code == 429
        assert admin.post("/v1/agents/claude/llm", json=too_much).status_code == 429
    with fresh_service.as_agent("claude") as claude:
        rows = claude.get("/v1/refusals", params={"after": 0, "limit": 1}).json()["refusals"]
        assert [r["agent"] for r in rows] == ["claude"]
        newest = claude.get("/v1/refusals", params={"limit": 1}).json()["refusals"]
        assert [r["agent"] for r in newest] == ["claude"]
