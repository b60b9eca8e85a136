"""Export and import carry the gateway's reservations, open and closed: an exchange with
requests captured, released, expired, still open (its own and a pool's) round-trips to
the same bytes, the copy is healthy, its open holds can still be captured or settled,
and its numbering continues after them; a file whose holds and open reservations
disagree is refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agent_token_exchange import InvalidInput, open_exchange
from agent_token_exchange.formats.export import WRITERS, parse_export
from agent_token_exchange.service.lifecycle import import_exchange
from agent_token_exchange.service.metering import Usage

from .ledger_checks import assert_invariants


def busy_gateway(ex, clock) -> dict[str, int]:
    """Reservations of every kind; returns the open ones' ids by name."""
    pool = ex.pool_create("team", "zero", "10", open=True).id
    ex.pool_join(pool, "spark")
    ex.pool_contribute(pool, "zero", "600")
    ex.pool_contribute(pool, "spark", "400")
    stale = ex.metering.reserve("builder", "llama3.2", 100, 900, "chars")
    clock.advance(seconds=3600)
    assert len(ex.settle().items) == 1 and stale.id == 1  # expired
    ex.metering.capture(ex.metering.reserve("zero", "llama3.2", 100, 100, "chars"),
                        Usage(80, 50, "req-1", 120))
    ex.metering.release(ex.metering.reserve("claude", "claude-opus", 10, 100, "bytes"))
    ex.metering.capture(ex.metering.reserve("spark", "claude-opus", 100, 1000, "chars",
                                            pool_id=pool), Usage(100, 200))
    mine = ex.metering.reserve("claude", "claude-sonnet", 100, 500, "chars")
    pooled = ex.metering.reserve("zero", "claude-opus", 100, 2000, "chars", pool_id=pool)
    return {"mine": mine.id, "pooled": pooled.id}


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_open_and_closed_reservations_round_trip(kind, exchange, clock, tmp_path,
                                                 make_database_url):
    """export -> import -> export gives the same bytes (into the same kind of store); the
    copy's doctor is clean with holds still open; they capture and settle in the copy as
    in the original, and a new reservation there takes the next number."""
    opened = busy_gateway(exchange, clock)
    text = WRITERS[kind](exchange.export_image())
    image = parse_export(text)
    assert [r.outcome for r in image.reservations] == [
        "expired", "captured", "released", "captured", None, None]
    import_exchange(tmp_path / "copy", image, clock=clock, database=make_database_url())
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert WRITERS[kind](copy.export_image()) == text
        assert copy.doctor().healthy
        assert_invariants(copy)
        closed = copy.metering.capture(opened["mine"], Usage(50, 50))
        assert closed.outcome == "captured" and closed.charged == Decimal("0.3")
        assert copy.metering.reserve("zero", "llama3.2", 1, 1, "chars").id == 7
        clock.advance(seconds=3600)
        settled = {item.id for item in copy.settle().items}
        assert settled == {f"r{opened['pooled']}", "r7"}
        view = copy.pool_show("pool-1")
        assert sum(m.stake for m in view.members) == view.balance
        assert_invariants(copy)


def test_a_file_whose_holds_disagree_with_its_reservations_is_refused(exchange, clock,
                                                                      tmp_path):
    """An export edited to drop its open reservations (its hold accounts still holding)
    is refused with one line saying so, and nothing is imported."""
    busy_gateway(exchange, clock)
    text = WRITERS["json"](exchange.export_image())
    document = json.loads(text)
    document["reservations"] = [r for r in document["reservations"] if r["closed_at"]]
    with pytest.raises(InvalidInput, match=r"hold:agent:claude holds .* open gateway"):
        import_exchange(tmp_path / "copy", parse_export(json.dumps(document)), clock=clock)
    import_exchange(tmp_path / "copy", parse_export(text), clock=clock)  # it was left empty
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert copy.doctor().healthy
