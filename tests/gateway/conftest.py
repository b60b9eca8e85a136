"""A real exchange server (uvicorn, on SQLite and on PostgreSQL) in front of the stand-in
provider (tests/standin_provider.py), and the official SDKs pointed at it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import anthropic
import openai
import pytest

from agent_token_exchange import Exchange, SimulatedClock, open_exchange
from agent_token_exchange.economy import metering
from agent_token_exchange.money import tokens
from agent_token_exchange.server.app import create_app

from ..conftest import set_config
from ..standin_provider import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    ServerThread,
    StandinProvider,
    upstreams_toml,
)

AGENTS = ("zero", "claude", "builder", "spark")


@pytest.fixture(scope="session")
def provider() -> Iterator[StandinProvider]:
    standin = StandinProvider()
    with ServerThread(standin.app) as server:
        standin.url = server.url
        yield standin


def serve_seed_models(text: str, url: str) -> str:
    """The seed's config with llama3.2 served over OpenAI's protocol and claude-opus over
    Anthropic's, plus the stand-in's upstreams and two split-priced models."""
    text = re.sub(r'(\[models\."llama3\.2"\]\ncost_per_1k = 0\.1\n)',
                  r'\1upstream = "openai"\nmax_output_tokens = 256\n', text)
    text = re.sub(r'(\[models\."claude-opus"\]\ncost_per_1k = 15\n)',
                  r'\1upstream = "anthropic"\nupstream_model = "claude-opus-4-1"\n'
                  r'max_output_tokens = 64\n', text)
    return text + upstreams_toml(url)


@dataclass
class GatewayUnderTest:
    url: str
    home: Path
    clock: SimulatedClock
    provider: StandinProvider
    keys: dict[str, str]

    def exchange(self) -> Exchange:
        """The exchange, once every request sent so far is settled (the gateway charges
        just after the answer has gone out, so a test reads the books after that)."""
        self.settled()
        return open_exchange(self.home, clock=self.clock)

    def openai(self, agent: str = "zero", **options: object) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.keys[agent],
                             max_retries=0, **options)

    def anthropic(self, agent: str = "zero", **options: object) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.url, api_key=self.keys[agent], max_retries=0,
                                   **options)

    def settled(self) -> None:
        """Wait until no hold account holds anything."""
        deadline = time.monotonic() + 10
        while True:
            with open_exchange(self.home, clock=self.clock) as ex:
                held = {a.name: a.balance for a in ex.store.accounts.all("hold") if a.balance}
            if not held:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"still held after 10 s: {held}")
            time.sleep(0.02)

    def balance(self, who: str) -> Decimal:
        with self.exchange() as ex:
            if who.startswith("pool-"):
                return ex.pool_show(who).balance
            return ex.balance(who).tokens

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> Decimal:
        with self.exchange() as ex:
            price = metering.prices(ex.config, model)
        return tokens(metering.usage_cost(price, input_tokens, output_tokens))


@pytest.fixture
def gateway(home: Path, clock: SimulatedClock, provider: StandinProvider,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayUnderTest]:
    monkeypatch.setenv("STANDIN_OPENAI_KEY", OPENAI_KEY)
    monkeypatch.setenv("STANDIN_ANTHROPIC_KEY", ANTHROPIC_KEY)
    provider.reply_words, provider.fail_status, provider.word_delay = 12, None, 0.0
    provider.input_extra = 0
    set_config(home, lambda text: serve_seed_models(text, provider.url))
    with open_exchange(home, clock=clock) as ex:
        ring = ex.keys
        keys = {agent: ring.create(agent=agent).key for agent in AGENTS}
        keys["admin"] = ring.create(admin=True).key
    with ServerThread(create_app(home, clock=clock)) as server:
        yield GatewayUnderTest(server.url, home, clock, provider, keys)
