"""Export and import carry the credit market and governance, on both stores: an exchange
with an open loan offer, a partly repaid loan, a defaulted one, open, accepted and
delivered futures, stakes, a released and a pending unbonding, an enacted and a passed
proposal with their votes exports and imports into an empty exchange whose doctor is clean
and whose export is the same bytes; the copy works on (the loan repaid, a future
delivered, the passed proposal enacted, the unbonding released, new offers, loans,
futures, unbondings, proposals and parameter changes numbered after the old). A file
whose escrow, stake or unbonding accounts disagree with its records, or with a record no
exchange could have written, is refused with one line and nothing imported."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agent_token_exchange import InvalidInput, open_exchange
from agent_token_exchange.formats.export import WRITERS, parse_export
from agent_token_exchange.service.lifecycle import import_exchange

from .ledger_checks import assert_invariants

HOUR = 3600
D = Decimal
M = 1_000_000  # micro-tokens in a token


def busy_market(ex, clock) -> None:
    """offer-2 open; loan-1 defaulted; loan-2 open and partly repaid; future-1 open,
    future-2 and future-3 accepted, future-4 delivered; lambda, builder and spark staked;
    u1 released, u2 pending; prop-1 enacted (a parameter change), prop-2 passed and in its
    timelock, each with votes."""
    ex.loan_offer("builder", 2000, rate_per_day="1%", term_hours=24)
    ex.loan_take("offer-1", "claude")
    ex.loan_offer("claude", 11000, rate_per_day=0, term_hours=24)  # open: claude keeps 1,000
    ex.loan_offer("lambda", 1000, rate_per_day="0.5%", term_hours=72, max_defaults=3)
    ex.loan_take("offer-3", "spark")
    ex.future_open("observer", "manual", price=300, collateral=100, deadline_hours=72)
    ex.future_open("lambda", "manual", price=200, collateral=50, deadline_hours=72)
    ex.future_accept("future-2", "builder")
    ex.future_open("spark", "commit:agent-token-.*", price=120, collateral=40,
                   deadline_hours=72, seller="observer")
    ex.future_accept("future-3", "observer")
    ex.stake("lambda", 1500)
    ex.stake("builder", 500)
    ex.stake("spark", 100)
    ex.unstake("builder", 100)  # u1: released at the first settle
    ex.propose("lambda", "rate_limits.burst", "600", reason="bigger prompts")
    ex.vote("lambda", "prop-1", "yes")
    ex.vote("builder", "prop-1", "no")
    clock.advance(seconds=24 * HOUR)
    assert {("loan-1", "defaulted"), ("prop-1", "passed")} <= {
        (i.id, i.outcome) for i in ex.settle().items}
    clock.advance(seconds=HOUR)
    assert ("prop-1", "enacted") in {(i.id, i.outcome) for i in ex.settle().items}
    ex.propose("lambda", "rate_limits.hourly", "2000", reason="more room")
    ex.vote("lambda", "prop-2", "yes")
    ex.vote("spark", "prop-2", "abstain")
    clock.advance(seconds=24 * HOUR)
    assert ("prop-2", "passed") in {(i.id, i.outcome) for i in ex.settle().items}
    ex.unstake("builder", 100)  # u2: pending
    ex.loan_repay("loan-2", "300")
    manual = ex.future_open("spark", "manual", price=10, collateral=5, deadline_hours=24)
    ex.future_accept(manual.id, "builder")
    ex.future_confirm(manual.id)  # future-4 delivered


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_the_credit_market_round_trips_and_works_on(kind, exchange, clock, tmp_path,
                                                    make_database_url):
    """export -> import -> export gives the same bytes (into the same kind of store); the
    copy's doctor is clean with the escrows still holding; the partly repaid loan is
    repaid, the accepted future delivered, and new offers, loans and futures take the
    numbers after the imported ones."""
    busy_market(exchange, clock)
    assert_invariants(exchange)
    text = WRITERS[kind](exchange.export_image())
    image = parse_export(text)
    assert [(o.id, o.status) for o in image.loan_offers] == [
        ("offer-1", "taken"), ("offer-2", "open"), ("offer-3", "taken")]
    assert [(loan.id, loan.status) for loan in image.loans] == [
        ("loan-1", "defaulted"), ("loan-2", "open")]
    assert [(f.id, f.status) for f in image.futures] == [
        ("future-1", "open"), ("future-2", "accepted"), ("future-3", "accepted"),
        ("future-4", "delivered")]
    assert image.loan_offers == exchange.store.loans.offers()
    assert image.futures == exchange.store.futures.all()
    assert [(s.agent, s.staked) for s in image.stakes] == [
        ("builder", 300 * M), ("lambda", 1500 * M), ("spark", 100 * M)]
    assert [(u.id, u.released_at is None) for u in image.unbondings] == [(1, False), (2, True)]
    assert [(p.id, p.status) for p in image.proposals] == [("prop-1", "enacted"),
                                                           ("prop-2", "passed")]
    assert [(v.proposal_id, v.agent, v.choice) for v in image.votes] == [
        ("prop-1", "builder", "no"), ("prop-1", "lambda", "yes"),
        ("prop-2", "lambda", "yes"), ("prop-2", "spark", "abstain")]
    assert [(c.id, c.parameter, c.value) for c in image.parameter_changes] == [
        (1, "rate_limits.burst", D(600))]
    owed = exchange.loan_show("loan-2").owed
    import_exchange(tmp_path / "copy", image, clock=clock, database=make_database_url())
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert WRITERS[kind](copy.export_image()) == text
        assert copy.doctor().healthy
        assert_invariants(copy)
        assert copy.loan_show("loan-2").owed == owed
        assert copy.credit("claude").loans_defaulted == 1
        assert copy.loan_repay("loan-2").status == "repaid"
        assert copy.future_confirm("future-2").status == "delivered"
        assert copy.config.rate_limits.burst == D(600)
        assert copy.unstake("lambda", 10).release_at is not None  # u3
        assert [u.id for u in copy.store.governance.pending()] == [2, 3]
        assert copy.propose("lambda", "rate_limits.daily", "9000", reason="x").id == "prop-3"
        assert copy.loan_offer("observer", 10, rate_per_day=0, term_hours=1).id == "offer-4"
        assert copy.loan_take("offer-4", "builder").id == "loan-3"
        assert copy.future_open("builder", "manual", price=1, collateral=1,
                                deadline_hours=1).id == "future-5"
        copy.loan_cancel("offer-2")
        clock.advance(seconds=72 * HOUR)
        settled = {(i.id, i.outcome) for i in copy.settle().items}
        assert {("future-1", "expired"), ("future-3", "failed"), ("future-5", "expired"),
                ("prop-2", "enacted")} <= settled
        assert [c.id for c in copy.store.governance.changes()] == [1, 2]
        assert copy.store.governance.pending() == []
        assert copy.doctor().healthy
        assert_invariants(copy)


def _key(row: dict) -> str:
    """A record's id, or its agent, or proposal/agent."""
    if "id" in row:
        return str(row["id"])
    return "/".join(str(row[k]) for k in ("proposal_id", "agent") if k in row)


def _edited(text: str, section: str, record_id: str, **changes: object) -> str:
    document = json.loads(text)
    rows = [row for row in document[section] if _key(row) == record_id]
    assert len(rows) == 1
    rows[0].update(changes)
    return json.dumps(document)


def _assert_refused_then_empty(text: str, bad: str, message: str, home, clock) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        import_exchange(home, parse_export(bad), clock=clock)
    assert "\n" not in str(refused.value)
    import_exchange(home, parse_export(text), clock=clock)  # it was left empty
    with open_exchange(home, clock=clock) as copy:
        assert copy.doctor().healthy


def test_a_file_whose_escrow_disagrees_with_its_offer_is_refused(exchange, clock,
                                                                 tmp_path):
    """An export edited to show the open offer cancelled (its escrow still holding the
    amount) is refused with one line naming the escrow, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    bad = _edited(text, "loan_offers", "offer-2", status="cancelled",
                  closed_at="2026-01-02T00:00:00.000000Z")
    _assert_refused_then_empty(text, bad, r"escrow:offer-2 holds 11000 but offer-2 is "
                               r"cancelled", tmp_path / "copy", clock)


def test_a_file_whose_future_escrow_disagrees_is_refused(exchange, clock, tmp_path):
    """A future edited to a bigger collateral than its escrow holds is refused with one
    line naming the escrow, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    bad = _edited(text, "futures", "future-2", collateral="60")
    _assert_refused_then_empty(text, bad, r"escrow:future-2 holds 50 but future-2 is "
                               r"accepted \(it should hold 60\)", tmp_path / "copy", clock)


@pytest.mark.parametrize(("section", "record_id", "changes", "message"), [
    ("loan_offers", "offer-2", {"status": "pending"}, r"loan offer offer-2: status 'pending'"),
    ("loan_offers", "offer-2", {"id": "offer-x"}, r"'offer-x' is not a valid id"),
    ("loan_offers", "offer-2", {"number": 7}, r"offer-2: its number 7 is not"),
    ("loan_offers", "offer-2", {"lender": "Bad Name"}, r"lender 'Bad Name' is not a valid"),
    ("loans", "loan-2", {"status": "repaid"}, r"loan loan-2: a repaid loan"),
    ("loans", "loan-2", {"offer_id": "offer-2"}, r"loan-2 and its offer offer-2 disagree"),
    ("loans", "loan-2", {"outstanding": "900"},
     r"loan-2: [0-9.]+ repaid and 900 outstanding do not make"),
    ("futures", "future-1", {"work_kind": "bd"}, r"future future-1: work_kind"),
    ("futures", "future-2", {"seller": None}, r"future future-2: a future with a seller"),
    ("futures", "future-1", {"status": "lost"}, r"future future-1: status 'lost'"),
    ("stakes", "builder", {"agent": "Builder"}, r"stake: agent 'Builder' is not a valid"),
    ("unbondings", "1", {"release_seq": None}, r"unbonding u1: it names the transfer"),
    ("unbondings", "2", {"amount": "0"}, r"unbonding u2: its amount must be more than 0"),
    ("proposals", "prop-1", {"status": "won"}, r"proposal prop-1: status 'won'"),
    ("proposals", "prop-2", {"quorum": "2"}, r"proposal prop-2: its value must be a number "
                                             r"and its quorum 0 to 1"),
    ("proposals", "prop-2", {"closed_at": None}, r"proposal prop-2: a closed vote"),
    ("votes", "prop-1/builder", {"choice": "maybe"}, r"vote on prop-1: choice 'maybe'"),
    ("votes", "prop-1/builder", {"power": "1"}, r"builder's vote on prop-1 has power 1, not"),
    ("votes", "prop-2/spark", {"proposal_id": "prop-9"}, r"names proposal prop-9, which"),
    ("parameter_changes", "1", {"value": "lots"}, r"parameter_changes record 1: value must "
                                                  r"be a number"),
])
def test_a_market_record_no_exchange_could_write_is_refused(section, record_id, changes,
                                                            message, exchange, clock,
                                                            tmp_path):
    """Each bad field of an offer, loan or future is one line naming the record and the
    problem, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    bad = _edited(text, section, record_id, **changes)
    _assert_refused_then_empty(text, bad, message, tmp_path / "copy", clock)


def test_a_file_whose_stake_accounts_disagree_with_its_records_is_refused(exchange, clock,
                                                                          tmp_path):
    """A stake edited up (stake:builder still holding the old total), or the pending
    unbonding marked released (unbonding:builder still holding it), is refused with one
    line naming the account, and nothing is imported."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    _assert_refused_then_empty(text, _edited(text, "stakes", "builder", staked="400"),
                               r"stake:builder holds 300 but the file's staked total come "
                               r"to 400", tmp_path / "one", clock)
    released = _edited(text, "unbondings", "2", released_at="2026-01-03T02:00:00.000000Z",
                       release_seq=1)
    _assert_refused_then_empty(text, released, r"unbonding:builder holds 100 but the file's "
                               r"unreleased unbondings come to 0", tmp_path / "two", clock)


def test_an_escrow_account_of_a_strange_name_is_refused(exchange, clock, tmp_path):
    """Escrow accounts are escrow:offer-N or escrow:future-N; any other name under that
    kind is refused with one line before anything is written."""
    busy_market(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    document = json.loads(text)
    document["accounts"].append({**document["accounts"][0], "name": "escrow:vault",
                                 "kind": "escrow"})
    _assert_refused_then_empty(text, json.dumps(document), r"'escrow:vault' .* is not a "
                               r"valid account name", tmp_path / "copy", clock)


def test_a_filtered_export_keeps_the_agents_market_records(exchange, clock):
    """--agent keeps the offers it made, the loans it lent or borrowed, the futures it
    bought, sold or was named in, its stake and unbondings, the proposals it made or voted
    on with its own votes and snapshot, and those proposals' changes; --since keeps the
    records made at or after it (and every stake: a standing total has no time)."""
    busy_market(exchange, clock)
    mine = exchange.export_image(agent="spark")
    assert [o.id for o in mine.loan_offers] == []
    assert [loan.id for loan in mine.loans] == ["loan-2"]
    assert [f.id for f in mine.futures] == ["future-3", "future-4"]
    assert [s.agent for s in mine.stakes] == ["spark"] and mine.unbondings == []
    assert [p.id for p in mine.proposals] == ["prop-2"]
    assert [(v.proposal_id, v.agent) for v in mine.votes] == [("prop-2", "spark")]
    assert [s.agent for s in mine.proposal_stakes] == ["spark"]
    assert mine.parameter_changes == []
    builder = exchange.export_image(agent="builder")
    assert [p.id for p in builder.proposals] == ["prop-1"]
    assert [c.id for c in builder.parameter_changes] == [1]
    assert [u.id for u in builder.unbondings] == [1, 2]
    later = exchange.export_image(since=clock.now_us())
    assert ([f.id for f in later.futures], later.loans, later.loan_offers) == (
        ["future-4"], [], [])
    assert ([u.id for u in later.unbondings], later.proposals, later.votes) == ([2], [], [])
    assert len(later.stakes) == 3


def test_the_commands_move_the_market_and_refuse_a_tampered_file_in_one_line(
        cli, home, clock, tmp_path):
    """`token-exchange export` then `import` into a new home carries the market (the
    copy exports the same bytes); a file with a tampered escrow is one line on stderr, a
    non-zero exit, and the new home is left without a ledger."""
    with open_exchange(home, clock=clock) as ex:
        busy_market(ex, clock)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert cli("export", "--out", str(first)).code == 0
    copy = str(tmp_path / "copy")
    assert cli("import", str(first), "--home", copy, with_home=False).code == 0
    assert cli("export", "--out", str(second), "--home", copy, with_home=False).code == 0
    assert second.read_bytes() == first.read_bytes()
    assert (tmp_path / "copy" / ".exchange" / "exchange.db").exists()
    bad = tmp_path / "bad.json"
    bad.write_text(_edited(first.read_text(), "futures", "future-1", price="301"))
    refused = cli("import", str(bad), "--home", str(tmp_path / "other"), with_home=False)
    assert refused.code != 0 and refused.out == ""
    assert refused.err.strip().count("\n") == 0
    assert "escrow:future-1 holds 300 but future-1 is open" in refused.err
    assert not (tmp_path / "other" / ".exchange" / "exchange.db").exists()
