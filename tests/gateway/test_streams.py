"""Streams cut short: a client that goes away mid-stream is charged for what was
generated before it left, never more than was reserved, and the provider's stream stops."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from ..ledger_checks import assert_invariants
from .conftest import GatewayUnderTest

HELLO = [{"role": "user", "content": "Count slowly."}]


def _settled(gateway: GatewayUnderTest, agent: str) -> list:
    """The agent's closed gateway reservations once nothing is held any more (the gateway
    settles a cut stream after the client has gone, so wait for it)."""
    deadline = time.monotonic() + 10
    while True:
        with gateway.exchange() as ex:
            held = ex.store.accounts.get(f"hold:agent:{agent}")
            closed = ex.store.reservations.closed(10)
            if held is not None and held.balance == 0 and closed:
                assert_invariants(ex)
                return closed
        if time.monotonic() > deadline:
            raise AssertionError("the cut stream was never settled")
        time.sleep(0.05)


@pytest.mark.parametrize("path, body", [
    ("/v1/chat/completions", {"model": "gpt-split", "max_tokens": 64}),
    ("/v1/messages", {"model": "claude-split", "max_tokens": 64}),
])
def test_a_client_gone_mid_stream_pays_for_what_was_generated(
        gateway: GatewayUnderTest, path: str, body: dict):
    """The client reads five words of a forty-word stream and hangs up: it is charged the
    prompt and about those words (more than nothing, less than the whole answer, at most
    the reservation), and the provider stops generating."""
    gateway.provider.reply_words, gateway.provider.word_delay = 40, 0.05
    finished = gateway.provider.streams_finished
    before = gateway.balance("zero")
    words = 0
    headers = {"authorization": f"Bearer {gateway.keys['zero']}",
               "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=gateway.url, timeout=10) as client, client.stream(
            "POST", path, headers=headers,
            json={**body, "messages": HELLO, "stream": True}) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            words += len(re.findall(r" w[0-9]+", line))
            if words >= 5:
                break
    closed = _settled(gateway, "zero")[0]
    charged = before - gateway.balance("zero")
    full = gateway.cost(body["model"], closed.input_tokens, 40)
    assert closed.outcome == "captured" and closed.charged > 0
    assert 0 < charged < full and closed.charged <= closed.amount
    assert 5 <= closed.output_tokens < 40
    time.sleep(0.3)
    assert gateway.provider.streams_finished == finished, "the provider kept generating"
