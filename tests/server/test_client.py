"""The Python client and the remote CLI: the same methods, records, errors and output as
the library and the local CLI."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent_token_exchange import (
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    RateLimited,
    open_exchange,
    to_json,
)
from agent_token_exchange.cli import main
from agent_token_exchange.client.http import ExchangeClient, Unreachable
from agent_token_exchange.service.api_keys import Forbidden, Unauthenticated
from agent_token_exchange.service.exchange import Exchange

from .conftest import Service, free_port

SHA_beef01 = "beef01".ljust(40, "0")  # a full object id


def public_methods(cls) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name))}


def test_the_client_has_every_method_of_the_exchange():
    """Every public Exchange method a caller uses exists on the client too."""
    local_only = {"close", "open_accounts"}  # a server provisions its own accounts
    missing = public_methods(Exchange) - public_methods(ExchangeClient) - local_only
    assert not missing


def test_client_records_equal_the_librarys(fresh_service: Service):
    """Each method returns the same record (by its JSON) as the library over the same ledger."""
    svc = fresh_service
    with ExchangeClient(svc.url, svc.admin) as remote:
        remote.pool_create("team", "claude", "100")
        remote.pool_invite("pool-1", "builder")
        remote.pool_join("pool-1", "builder")
        remote.pool_contribute("pool-1", "claude", "600")
        remote.pool_contribute("pool-1", "builder", 400)
        spend = remote.pool_spend("pool-1", "claude-opus", 10_000, "analysis")
        assert [(c.agent, c.share_percent, c.credited) for c in spend.credits] == [
            ("builder", "40.00", Decimal("60")), ("claude", "60.00", Decimal("90"))]
        charge = remote.llm("zero", "coding", "5000")
        assert (charge.amount, charge.seq > 0) == (Decimal("0.5"), True)
        remote.commit("claude@aygp-dr.ai", "nexushive-setup", "fix: bug", sha=SHA_beef01)
        remote.award("builder", "150", "beads", "closed")
        remote.pay_issue("bd-7", "spark", priority=2, issue_type="bug")
        with pytest.raises(RateLimited):
            remote.llm("zero", "coding", 10**7)
        with open_exchange(svc.home) as local:
            assert remote.agents() == local.agents()
            assert [to_json(s) for s in remote.status()] == [to_json(s) for s in local.status()]
            for agent in ("claude", "zero", "builder"):
                assert remote.balance(agent) == local.balance(agent)
                assert [to_json(e) for e in remote.history(agent, 50)] == [
                    to_json(e) for e in local.history(agent, 50)]
                assert to_json(remote.limits(agent)) == to_json(local.limits(agent))
            assert to_json(remote.pool_show("pool-1")) == to_json(local.pool_show("pool-1"))
            assert [to_json(p) for p in remote.pool_list()] == [
                to_json(p) for p in local.pool_list()]
            assert remote.preview_commit("claude", "x", "feat: y") == local.preview_commit(
                "claude", "x", "feat: y")
            assert [to_json(t) for t in remote.transfers_since(3, 5)] == [
                to_json(t) for t in local.transfers_since(3, 5)]
            refusals = remote.refusals_since(0)
            assert [r.code for r in refusals] == ["burst_limit"]
            assert [to_json(r) for r in refusals] == [
                to_json(r) for r in local.refusals_since(0)]
            assert remote.doctor().healthy is True
            assert remote.config == local.config
            assert to_json(remote.audit()) == to_json(local.audit())
            assert remote.audit().intact is True
            assert remote.commit_paid(SHA_beef01) is local.commit_paid(SHA_beef01) is True
            assert remote.commit_paid("beef02".ljust(40, "0")) is False
            assert remote.issue_settled("bd-7") is True
            assert remote.issue_settled("bd-8") is False
            for contract in ("nexushive-setup", "default"):
                assert remote.budget_left(contract) == local.budget_left(contract)
        with pytest.raises(InvalidInput, match="exchange's machine"):
            remote.export_image()
        dissolved = remote.pool_dissolve("pool-1")
        assert sum(r.amount for r in dissolved.refunds) == dissolved.amount


def test_client_raises_the_librarys_exceptions(fresh_service: Service):
    """The client raises the library's exceptions, with their figures, and Unauthenticated or
    Unreachable for a bad key or no server."""
    svc = fresh_service
    with ExchangeClient(svc.url, svc.keys["claude"]) as claude:
        with pytest.raises(RateLimited) as limited:
            claude.llm("claude", "coding", 100_000)
        assert (limited.value.kind, limited.value.limit, limited.value.needed) == (
            "burst", Decimal(500), Decimal(1500))
        pool = claude.pool_create("solo", "claude", "1")
        with pytest.raises(InsufficientFunds):
            claude.pool_contribute(pool.id, "claude", "9999")
        claude.pool_contribute(pool.id, "claude", "1")
        with pytest.raises(NotAllowed):
            claude.pool_spend(pool.id, "llama3.2", 1000, "alone")
        with pytest.raises(InvalidInput):
            claude.balance("nobody")
        with pytest.raises(Forbidden):
            claude.llm("zero", "coding", 10)
        claude.llm("claude", "coding", 10, idempotency_key="k1")
        with pytest.raises(Conflict):
            claude.llm("claude", "coding", 11, idempotency_key="k1")
    with ExchangeClient(svc.url, "atx_wrong") as stranger, pytest.raises(Unauthenticated):
        stranger.status()
    with ExchangeClient(f"http://127.0.0.1:{free_port()}", svc.admin) as nowhere, \
            pytest.raises(Unreachable):
        nowhere.status()


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_server_given_as_host_and_port_is_plain_http(service: Service, capsys):
    """--server 127.0.0.1:PORT (no scheme, as people type it) reaches the exchange over
    http://, and the client takes it the same way."""
    hostport = service.url.removeprefix("http://")
    code, out, err = run_cli(capsys, "balance", "claude", "--json", "--server", hostport,
                             "--api-key", service.admin)
    assert (code, err) == (0, "")
    assert '"agent": "claude"' in out
    with ExchangeClient(hostport, service.admin) as client:
        assert client.url == service.url
        assert client.balance("claude").agent == "claude"


@pytest.mark.parametrize("command", [
    ["status"], ["balance", "claude"], ["history", "claude", "-n", "3"], ["limits", "claude"],
    ["pool", "list"], ["pool", "show", "pool-1"],
])
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_remote_cli_prints_what_the_local_cli_prints(service: Service, capsys, command,
                                                     as_json):
    """Reads: the same output from --server as from --home, in JSON and as tables."""
    with ExchangeClient(service.url, service.admin) as admin:
        if not admin.pool_list():
            admin.pool_create("shared", "claude", "10", open=True)
            admin.pool_join("pool-1", "zero")
    flags = ["--json"] if as_json else []
    local = run_cli(capsys, *command, *flags, "--home", str(service.home))
    remote = run_cli(capsys, *command, *flags, "--server", service.url,
                     "--api-key", service.admin)
    assert local[0] == 0
    assert remote == local


def test_remote_cli_writes_and_refusals_match_local(fresh_service: Service, capsys,
                                                    monkeypatch):
    """A spend and a refusal through TOKEN_EXCHANGE_URL/KEY: same exit codes and JSON shape;
    a key acting beyond its rights (403) is a refusal too (exit 1)."""
    monkeypatch.setenv("TOKEN_EXCHANGE_URL", fresh_service.url)
    monkeypatch.setenv("TOKEN_EXCHANGE_KEY", fresh_service.keys["zero"])
    code, out, _ = run_cli(capsys, "llm", "zero", "coding", "5000", "--json")
    assert code == 0
    assert '"amount": "0.5"' in out
    code, out, _ = run_cli(capsys, "llm", "zero", "coding", "10000000", "--json")
    assert code == 1
    assert '"code": "burst_limit"' in out
    code, _, err = run_cli(capsys, "award", "zero", "5", "x", "y")
    assert code == 1
    assert "admin key" in err
    code, out, _ = run_cli(capsys, "balance", "zero", "--json")
    assert '"spent": "0.5"' in out
    # An explicit --home wins over $TOKEN_EXCHANGE_URL.
    code, out, _ = run_cli(capsys, "balance", "zero", "--json", "--home",
                           str(fresh_service.home))
    assert (code, '"spent": "0.5"' in out) == (0, True)


def test_remote_cli_without_a_server_says_so(capsys):
    """The remote CLI exits 2 with one clear line when the server is unreachable or --server has no
    value."""
    code, _, err = run_cli(capsys, "status", "--server", f"http://127.0.0.1:{free_port()}")
    assert code == 2
    assert err.startswith("error: cannot reach the exchange")
    code, _, err = run_cli(capsys, "status", "--server")
    assert code == 2
    assert "'--server' requires an argument" in err
