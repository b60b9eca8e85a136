"""Export and import: a full export loads into an empty exchange and exports the same bytes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from agent_token_exchange import InvalidInput, RateLimited, open_exchange
from agent_token_exchange.formats.export import (
    WRITERS,
    parse_export,
    parse_time,
    time_text,
    to_json,
)
from agent_token_exchange.service.lifecycle import import_exchange

from .ledger_checks import assert_invariants, snapshot

SHA_abc123 = "abc123".ljust(40, "0")  # a full object id


def _day_of_work(ex, clock) -> None:
    """Commits, spends, a refusal, awards, an issue, keys, two pools (one dissolved)."""
    ex.commit("claude@aygp-dr.ai", "agent-token-exchange", "fix: the bug", sha=SHA_abc123)
    ex.commit("builder@aygp-dr.ai", "nexushive-setup", "docs: readme")
    clock.advance(30)
    ex.llm("zero", "coding", 5000, idempotency_key="zero-1")
    ex.llm("claude", "coding", 20000, idempotency_key="claude-1")
    with pytest.raises(RateLimited):
        ex.llm("claude", "reasoning", 44000, idempotency_key="claude-2")
    ex.award("builder", "150.25", "beads-integration", "Closed issue — ünïcode ✓")
    ex.pay_issue("bd-7", "spark", priority=2, issue_type="bug", title="crash")
    clock.advance(seconds=1, micros=7)
    first = ex.pool_create("opus-team", "claude", 100, idempotency_key="pool-a")
    ex.pool_invite(first.id, "builder")
    ex.pool_join(first.id, "builder")
    ex.pool_contribute(first.id, "claude", 600)
    ex.pool_contribute(first.id, "builder", 400)
    ex.pool_spend(first.id, "claude-opus", 1000, "complex analysis")
    ex.pool_invite(first.id, "spark")  # an invitation not yet taken up is exported too
    second = ex.pool_create("small", "zero", "0.5", open=True)
    ex.pool_join(second.id, "lambda")
    ex.pool_contribute(second.id, "zero", "3.333333")
    ex.pool_contribute(second.id, "lambda", 2)
    clock.advance(3600)
    ex.pool_spend(second.id, "claude-sonnet", 100, "a quick look")
    ex.pool_dissolve(second.id)


@pytest.fixture
def busy_home(home, clock):
    with open_exchange(home, clock=clock) as ex:
        _day_of_work(ex, clock)
    return home


def test_json_round_trip_is_byte_for_byte(busy_home, tmp_path, cli):
    """A full JSON export imported into an empty exchange exports the same bytes."""
    first = tmp_path / "first.json"
    assert cli("export", "--out", str(first)).code == 0
    imported = cli("import", str(first), "--home", str(tmp_path / "copy"), with_home=False)
    assert imported.code == 0, imported.err
    second = tmp_path / "second.json"
    assert cli("export", "--out", str(second), "--home", str(tmp_path / "copy"),
               with_home=False).code == 0
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    assert document["complete"] is True
    assert len(document["transfers"]) > 20 and len(document["pools"]) == 2
    assert document["refusals"] and document["idempotency"]
    assert any(t["kind"] == "pool_refund" for t in document["transfers"])


def test_csv_round_trip_is_byte_for_byte_and_matches_json(busy_home, tmp_path, cli):
    """A CSV export round-trips byte for byte and carries everything the JSON export does."""
    first = tmp_path / "first.csv"
    assert cli("export", "--format", "csv", "--out", str(first)).code == 0
    copy = str(tmp_path / "copy")
    assert cli("import", str(first), "--home", copy, with_home=False).code == 0
    second = tmp_path / "second.csv"
    assert cli("export", "--format", "csv", "--out", str(second), "--home", copy,
               with_home=False).code == 0
    assert first.read_bytes() == second.read_bytes()
    from_json = cli("export").out
    from_copy = cli("export", "--home", copy, with_home=False).out
    assert from_json == from_copy  # the CSV carried everything the JSON does


def test_imported_exchange_is_the_same_exchange(busy_home, tmp_path, clock):
    """An imported exchange has the same balances, audit head, idempotency replays and rate windows,
    and continues the chain."""
    with open_exchange(busy_home, clock=clock) as ex:
        image = ex.export_image()
        before = snapshot(ex)
        head = ex.audit().head_hash
    summary = import_exchange(tmp_path / "copy", image, clock=clock)
    assert summary.transfers == len(image.transfers) and summary.head_hash == head
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert snapshot(copy) == before
        assert copy.audit().head_hash == head
        assert_invariants(copy)
        # Idempotency keys came along: a replay returns the first result, or refusal.
        assert copy.llm("zero", "coding", 5000, idempotency_key="zero-1").seq == \
            next(t.seq for t in image.transfers if t.idempotency_key == "client:zero-1")
        with pytest.raises(RateLimited):
            copy.llm("claude", "reasoning", 44000, idempotency_key="claude-2")
        # Rate-limit windows were rebuilt: the copy knows what claude spent this hour.
        assert copy.limits("claude").daily_used == ex_daily(busy_home, clock)
        # New transfers continue the chain and the numbering.
        charge = copy.llm("zero", "coding", 100)
        assert charge.seq == len(image.transfers) + 1 and copy.audit().intact


def ex_daily(home, clock) -> int:
    with open_exchange(home, clock=clock) as ex:
        return ex.limits("claude").daily_used


def test_import_refuses_an_exchange_that_holds_anything(busy_home, tmp_path, cli):
    """Import into an exchange that already holds transfers exits 2 with one line and changes
    nothing."""
    export = tmp_path / "e.json"
    cli("export", "--out", str(export))
    with open_exchange(busy_home) as ex:
        before = snapshot(ex)
    result = cli("import", str(export))
    assert result.code == 2 and result.err.count("\n") == 1
    assert "already holds" in result.err and "empty exchange" in result.err
    with open_exchange(busy_home) as ex:
        assert snapshot(ex) == before


def test_an_edited_export_is_refused_and_leaves_nothing(busy_home, tmp_path, cli):
    """An export with an edited transfer is refused for its broken hash and creates no exchange."""
    document = json.loads(cli("export").out)
    document["transfers"][5]["amount"] = "99999"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    target = tmp_path / "target"
    result = cli("import", str(edited), "--home", str(target), with_home=False)
    assert result.code == 2
    assert "transfer #6 does not match its hash" in result.err
    assert not (target / ".exchange").exists()


def test_a_stated_balance_its_transfers_do_not_give_is_refused(busy_home, tmp_path, cli):
    """An export stating a balance its transfers do not give is refused, naming the account."""
    document = json.loads(cli("export").out)
    zero = next(a for a in document["accounts"] if a["name"] == "agent:zero")
    zero["balance"] = "1000000"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    result = cli("import", str(edited), "--home", str(tmp_path / "t"), with_home=False)
    assert result.code == 2 and "agent:zero" in result.err and "nothing was imported" in result.err


def test_filtered_exports_hold_only_what_was_asked_and_cannot_be_imported(busy_home, tmp_path,
                                                                          cli, clock):
    """Exports filtered by --agent or --since hold only matching records, are marked incomplete and
    cannot be imported."""
    everything = json.loads(cli("export").out)
    mine = json.loads(cli("export", "--agent", "zero").out)
    assert mine["complete"] is False and mine["agent"] == "zero"
    assert mine["transfers"] and all("agent:zero" in (t["source"], t["destination"])
                                     for t in mine["transfers"])
    assert [a["name"] for a in mine["accounts"]] == ["agent:zero"]
    assert {p["id"] for p in mine["pools"]} == {"pool-2"}
    late = everything["transfers"][-1]["at"]
    recent = json.loads(cli("export", "--since", late).out)
    assert recent["transfers"] and all(t["at"] >= late for t in recent["transfers"])
    assert len(recent["transfers"]) < len(everything["transfers"])
    partial = tmp_path / "partial.json"
    partial.write_text(cli("export", "--agent", "zero").out)
    result = cli("import", str(partial), "--home", str(tmp_path / "t"), with_home=False)
    assert result.code == 2 and "filtered" in result.err


def test_export_to_stdout_equals_the_file(busy_home, tmp_path, cli):
    """An export written to stdout equals the one written with --out."""
    out = tmp_path / "e.csv"
    summary = cli("export", "--format", "csv", "--out", str(out), "--json")
    assert summary.code == 0 and summary.json["ok"] and summary.json["format"] == "csv"
    assert cli("export", "--format", "csv").out == out.read_text()


@pytest.mark.parametrize("text, message", [
    ("", "not an export"),
    ("{", "not valid JSON"),
    ('{"format": "something-else"}', "not an export: format is 'something-else'"),
    ('{"format":"agent-token-exchange/export","version":2,"accounts":[]}',
     "not a complete export"),
    ("record,oops\nexport,1\n", "columns"),
    ('{"format":"agent-token-exchange/export","version":1,"complete":true,"accounts":[],'
     '"transfers":[{"seq":1}],"pools":[],"pool_members":[],"pool_credits":[],"refusals":[],'
     '"idempotency":[]}', "transfers record 1: expected the fields"),
])
def test_malformed_exports_are_one_clear_error(text, message):
    """Each malformed export is one InvalidInput saying what is wrong."""
    with pytest.raises(InvalidInput, match=message):
        parse_export(text)


def test_times_are_exact_to_the_microsecond():
    """Export times round-trip exactly to the microsecond, accept dates and offsets, and refuse free
    text."""
    for us in (0, 1, 1_767_225_600_000_007, 253_402_300_799_999_999):
        assert parse_time(time_text(us), "t") == us
    assert parse_time("2026-01-01", "t") == 1_767_225_600_000_000
    assert parse_time("2026-01-01T01:00:00+01:00", "t") == 1_767_225_600_000_000
    with pytest.raises(InvalidInput):
        parse_time("yesterday", "--since")


def test_image_of_an_empty_filter_still_serialises(exchange):
    """An export filtered down to nothing still serialises, with no transfers."""
    text = to_json(exchange.export_image(agent="zero", since=parse_time("2100-01-01", "s")))
    assert json.loads(text)["transfers"] == []


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_an_export_written_before_stakes_imports_and_exports_as_version_4(kind, tmp_path,
                                                                          clock):
    """A version-1 export (tests/fixtures, written before records and before pool stakes),
    a version-2 one (before gateway reservations) and a version-3 one (before the credit
    market) still import, the first's pool staked as the ledger's migration would, and
    each imported exchange exports the version-4 fixture byte for byte, which imports and
    exports the same bytes again."""
    new = (FIXTURES / f"export_v4.{kind}").read_text()
    for version in (1, 2, 3, 4):
        text = (FIXTURES / f"export_v{version}.{kind}").read_text()
        home = tmp_path / f"from-v{version}"
        import_exchange(home, parse_export(text), clock=clock)
        with open_exchange(home, clock=clock) as ex:
            assert ex.audit().intact
            assert_invariants(ex)
            view = ex.pool_show("pool-1")
            assert sum(m.stake for m in view.members) == view.balance
            assert WRITERS[kind](ex.export_image()) == new


def test_the_export_holds_the_records_the_service_returns(busy_home, clock):
    """An image's transfers and refusals are the ``LedgerTransfer`` and ``RefusalEvent``
    records the queries return (``Decimal`` tokens, the key and the hash included)."""
    with open_exchange(busy_home, clock=clock) as ex:
        image = ex.export_image()
        assert image.transfers == ex.transfers_since(0, 10_000)
        assert image.refusals == ex.refusals_since(0, 10_000)
    spend = next(t for t in image.transfers if t.idempotency_key == "client:zero-1")
    assert spend.amount == Decimal("0.5") and len(spend.hash or "") == 64
