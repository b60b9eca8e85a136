"""Exchange.commit follows the work, not only the SHA: amends and replays settle at zero."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_token_exchange.errors import Conflict, InvalidInput

from .ledger_checks import assert_invariants, stored_transfers

A, B, C = "a" * 40, "b" * 40, "c" * 40
PATCH, OTHER_PATCH = "1" * 40, "2" * 40


def commits(ex) -> list[tuple[str, int]]:
    return [(t.destination, t.amount) for t in stored_transfers(ex) if t.kind == "commit"]


def test_an_amend_of_a_paid_commit_settles_at_zero(exchange):
    """An amend, and an amend of the amend, of a paid commit settle at zero, and the amended patch
    id is remembered."""
    first = exchange.commit("claude@x.dev", "app", "fix: one", A, patch_id=PATCH)
    amend = exchange.commit("claude@x.dev", "app", "hotfix: one", B, patch_id=OTHER_PATCH,
                            replaces=A)
    chained = exchange.commit("claude@x.dev", "app", "hotfix: one!", C, replaces=B)
    assert first.amount == 225
    assert (amend.amount, amend.seq) == (0, 0)
    assert amend.note == f"already paid: it replaces commit {A[:12]} (amend)"
    assert chained.amount == 0
    assert commits(exchange) == [("agent:claude", 225_000_000)]
    # the amended change's patch id is remembered too: replaying it pays nothing
    replay = exchange.commit("claude@x.dev", "app", "hotfix: one", "d" * 40,
                             patch_id=OTHER_PATCH)
    assert replay.amount == 0 and "matching patch id" in replay.note
    assert_invariants(exchange)


def test_an_amend_of_an_unpaid_commit_is_paid(exchange):
    """An amend of a commit that was never paid is paid in full."""
    paid = exchange.commit("claude@x.dev", "app", "feat: one", B, replaces=A)
    assert paid.amount == 150


def test_a_patch_id_is_matched_per_agent(exchange):
    """The same patch id is paid once per agent: another agent's identical change is paid, a repeat
    by the same agent is not."""
    exchange.commit("claude@x.dev", "app", "feat: x", A, patch_id=PATCH)
    theirs = exchange.commit("spark@x.dev", "app", "feat: x", B, patch_id=PATCH)
    mine_again = exchange.commit("claude@x.dev", "app", "feat: x", C, patch_id=PATCH)
    assert theirs.amount == 115 and mine_again.amount == 0
    assert_invariants(exchange)


def test_replaying_a_sha_returns_the_first_result(exchange):
    """Replaying a SHA returns the first result, another project under it is a Conflict, and
    commit_paid matches by SHA or by patch id per author."""
    first = exchange.commit("claude@x.dev", "app", "feat: x", A, patch_id=PATCH)
    again = exchange.commit("claude@x.dev", "app", "feat: x", A, patch_id=PATCH)
    assert again == replace(first, replayed=True)
    with pytest.raises(Conflict):
        exchange.commit("claude@x.dev", "other", "feat: x", A)
    assert exchange.commit_paid(A) and not exchange.commit_paid(B)
    assert exchange.commit_paid(B, patch_id=PATCH, author_email="claude@x.dev")
    assert not exchange.commit_paid(B, patch_id=PATCH, author_email="spark@x.dev")


def test_malformed_patch_ids_are_refused_before_anything_is_written(exchange):
    """A malformed patch id or replaced SHA is InvalidInput and writes no commit."""
    for bad in ({"patch_id": "not-hex"}, {"replaces": "zz"}):
        with pytest.raises(InvalidInput):
            exchange.commit("claude@x.dev", "app", "feat", A, **bad)
    assert commits(exchange) == []
