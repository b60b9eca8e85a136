"""Staking and governance over HTTP: the routes' key rules (an agent's key acts only as
itself, an admin's as anyone), the client's round trip, and a change enacted by another
exchange on the same ledger reaching the server's answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from agent_token_exchange import open_exchange
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.economy.config import default_config_text
from agent_token_exchange.errors import Forbidden, InvalidInput, NotAllowed
from agent_token_exchange.service import parameters

from .conftest import Service, start_service


@pytest.fixture
def quick_vote(tmp_path: Path) -> Iterator[Service]:
    """A server whose votes end about a second after they open (voting_hours = 0.0003) and
    take effect at once (no timelock)."""
    (tmp_path / ".exchange").mkdir()
    (tmp_path / ".exchange" / "config.toml").write_text(
        default_config_text().replace("voting_hours = 24", "voting_hours = 0.0003")
        .replace("timelock_hours = 1", "timelock_hours = 0"))
    svc, server = start_service(tmp_path)
    yield svc
    server.stop()


def test_an_agent_key_stakes_proposes_and_votes_only_as_itself(fresh_service: Service):
    """claude's key stakes, proposes and votes as claude (200) and is refused as builder
    (403); an admin key acts as builder."""
    with fresh_service.as_agent("claude") as claude:
        answer = claude.post("/v1/stakes", json={"agent": "claude", "amount": "1000"})
        assert answer.status_code == 200 and answer.json()["staked"] == "1000"
        assert claude.post("/v1/stakes", json={"agent": "builder", "amount": "10"}
                           ).status_code == 403
        assert claude.post("/v1/unstakes", json={"agent": "builder", "amount": "10"}
                           ).status_code == 403
        made = claude.post("/v1/proposals", json={
            "agent": "claude", "parameter": "rate_limits.hourly", "value": "2000",
            "reason": "longer sessions"})
        assert made.status_code == 200 and made.json()["id"] == "prop-1"
        assert claude.post("/v1/proposals", json={
            "agent": "builder", "parameter": "rate_limits.hourly", "value": "2000",
            "reason": "r"}).status_code == 403
        assert claude.post("/v1/proposals/prop-1/votes",
                           json={"agent": "builder", "choice": "yes"}).status_code == 403
        voted = claude.post("/v1/proposals/prop-1/votes", json={"agent": "claude",
                                                                 "choice": "yes"})
        assert voted.json()["yes"] == "1000"
        assert claude.get("/v1/unbondings", params={"agent": "builder"}).status_code == 403
    with fresh_service.as_admin() as admin:
        assert admin.post("/v1/stakes", json={"agent": "builder", "amount": "10"}
                          ).status_code == 200
        refused = admin.post("/v1/proposals/prop-1/votes",
                             json={"agent": "builder", "choice": "no"})
        assert refused.status_code == 402  # builder staked after prop-1 was made
        assert refused.json()["error"]["code"] == "not_allowed"
        assert admin.post("/v1/proposals/prop-1/votes",
                          json={"agent": "claude", "choice": "maybe"}).status_code == 422
        assert admin.get("/v1/proposals/prop-9").status_code == 404
        listed = admin.get("/v1/proposals").json()["proposals"]
        assert [(p["id"], p["status"]) for p in listed] == [("prop-1", "voting")]


def test_the_client_speaks_governance_like_the_library(fresh_service: Service):
    """ExchangeClient's stake/propose/vote/proposals/parameters return the library's
    records and raise its exceptions."""
    with ExchangeClient(fresh_service.url, key=fresh_service.keys["spark"]) as client:
        change = client.stake("spark", Decimal("150.5"))
        assert (change.staked, change.action) == (Decimal("150.5"), "stake")
        assert client.unstake("spark", "0.5").unbonding == Decimal("0.5")
        assert [u.amount for u in client.unbondings()] == [Decimal("0.5")]
        made = client.propose("spark", "issues.type_multipliers.bug", "1.75", reason="bugs")
        assert (made.value, made.quorum) == (Decimal("1.75"), Decimal("0.2"))
        assert client.vote("spark", made.id, "abstain").abstain == Decimal(150)
        assert client.proposal_show(made.id).votes[0].choice == "abstain"
        assert client.proposals()[0].id == made.id
        found = {p.name: p for p in client.parameters()}
        assert found["issues.type_multipliers.bug"].value == Decimal("1.5")
        with pytest.raises(InvalidInput, match="unknown model"):
            client.propose("spark", "models.gpt-9.cost_per_1k", "1", reason="r")
        with pytest.raises(Forbidden):
            client.stake("zero", 1)
    with ExchangeClient(fresh_service.url, key=fresh_service.keys["zero"]) as zero, \
            pytest.raises(NotAllowed, match="proposing needs"):
        zero.propose("zero", "start_balance", "1", reason="r")


def test_a_change_enacted_elsewhere_reaches_the_server(quick_vote: Service, monkeypatch):
    """A proposal enacted by another exchange on the ledger (settle run from cron, say)
    changes what the server reports and enforces."""
    monkeypatch.setattr(parameters, "RECHECK_SECONDS", 0)
    with quick_vote.as_agent("claude") as claude:
        claude.post("/v1/stakes", json={"agent": "claude", "amount": "1000"})
        claude.post("/v1/proposals", json={"agent": "claude", "parameter": "rate_limits.burst",
                                           "value": "700", "reason": "bigger prompts"})
        assert claude.post("/v1/proposals/prop-1/votes",
                           json={"agent": "claude", "choice": "yes"}).status_code == 200
        time.sleep(1.2)
        with open_exchange(quick_vote.home) as ex:
            assert [i.outcome for i in ex.governance.close_due()] == ["passed", "enacted"]
        params = {p["name"]: p for p in claude.get("/v1/parameters").json()["parameters"]}
        assert (params["rate_limits.burst"]["value"], params["rate_limits.burst"]["source"]) \
            == ("700", "prop-1")
        assert claude.get("/v1/agents/claude/limits").json()["burst_limit"] == "700"
