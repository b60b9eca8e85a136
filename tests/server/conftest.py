"""A real uvicorn server on a free local port, over a fresh exchange, with API keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from agent_token_exchange import Clock, init_exchange, open_exchange
from agent_token_exchange.server import create_app
from agent_token_exchange.server.app import KEEP_ALIVE_SECONDS

from ..ledger_checks import ledger_state


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """uvicorn in a thread (over ``clock`` when a test moves time); ``stop()`` asks it to
    exit and waits."""

    def __init__(self, home: Path, clock: Clock | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(home, clock=clock), host="127.0.0.1", port=self.port,
                                log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS,
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Service:
    home: Path
    url: str
    admin: str
    keys: dict[str, str]  # agent -> key

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def as_admin(self) -> httpx.Client:
        return self.client(self.admin)

    def as_agent(self, agent: str) -> httpx.Client:
        return self.client(self.keys[agent])

    def ledger_state(self) -> tuple:
        """Everything a write could change: balances, transfers, refusals, pools."""
        with open_exchange(self.home) as ex:
            return ledger_state(ex)


def start_service(home: Path) -> tuple[Service, RunningServer]:
    init_exchange(home)
    with open_exchange(home) as ex:
        admin = ex.keys.create(admin=True).key
        keys = {agent: ex.keys.create(agent=agent).key for agent in ex.agents()}
    server = RunningServer(home)
    return Service(home, server.url, admin, keys), server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One server per test module (starting one costs ~0.2 s)."""
    svc, server = start_service(tmp_path_factory.mktemp("service"))
    yield svc
    server.stop()


@pytest.fixture
def fresh_service(tmp_path: Path) -> Iterator[Service]:
    """A server of one's own, for tests that need an untouched ledger."""
    svc, server = start_service(tmp_path)
    yield svc
    server.stop()
