"""Several `token-exchange serve` processes on one PostgreSQL database stay exact: 64
concurrent clients spread over three processes meet one agent's hourly limit exactly, and
each process's event stream carries every process's events."""

from __future__ import annotations

import concurrent.futures
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from agent_token_exchange import init_exchange, open_exchange
from tests.conftest import with_database

SPEND = {"task_type": "coding", "token_count": 750_000, "model": "llama3.2"}  # 75 tokens


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent_token_exchange", "serve", "--home", str(home),
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "a server did not start"
            time.sleep(0.1)


def _events(url: str, key: str, after: str, enough: Any, out: list[dict]) -> None:
    """Follow the stream, appending each event's data, until ``enough(out)``."""
    with httpx.stream("GET", f"{url}/v1/events", headers={"Authorization": f"Bearer {key}"},
                      params={"after": after}, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if enough(out):
                    return


def _charges(events: list[dict]) -> int:
    return sum("kind" in e and e["kind"] == "inference" for e in events)


def _most_refused(events: list[dict]) -> int:
    """The largest count a refusal event carried (repeats of one refusal are one row whose
    count rises, sent again each time it does)."""
    return max((e["count"] for e in events if "code" in e), default=0)


def test_three_processes_keep_an_hourly_limit_exact_and_share_their_events(pg_database,
                                                                          tmp_path):
    """Three servers on one database, 64 clients at once (128 spends of 75 tokens against
    a 1,000-token hourly limit): exactly 13 are charged and 115 refused, the ledger is
    healthy, and a stream opened on one server delivers all 13 charges and the refusals
    (alike within a minute: one row) counting all 115, most of them written by the other
    two."""
    schema = f"scale_{secrets.token_hex(4)}"
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = with_database(pg_database, urlsplit(pg_database).path.lstrip("/"), schema)
    home = tmp_path / "home"
    init_exchange(home, database=url)
    with open_exchange(home) as ex:
        ring = ex.keys
        agent_key = ring.create(agent="claude").key
        admin_key = ring.create(admin=True).key
    ports = [_free_port() for _ in range(3)]
    servers = [_serve(home, port) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for server_url, process in zip(urls, servers, strict=True):
            _wait_up(server_url, process)
        with open_exchange(home) as ex:
            start = f"{ex.store.transfers.last_seq()}.{ex.store.refusals.last_seq()}"
        seen: list[dict] = []
        listener = threading.Thread(target=_events, args=(
            urls[0], admin_key, start,
            lambda events: _charges(events) == 13 and _most_refused(events) == 115, seen))
        listener.start()

        def spend(n: int) -> int:
            with httpx.Client(base_url=urls[n % 3], timeout=60,
                              headers={"Authorization": f"Bearer {agent_key}"}) as http:
                return [http.post("/v1/agents/claude/llm", json=SPEND).status_code
                        for _ in range(2)]

        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            codes = [code for pair in pool.map(spend, range(64)) for code in pair]
        assert sorted(set(codes)) == [200, 429]
        assert codes.count(200) == 13 and codes.count(429) == 115
        listener.join(timeout=60)
        assert _charges(seen) == 13, f"the stream on one server saw {_charges(seen)} of 13"
        assert _most_refused(seen) == 115, "the stream on one server did not count 115 refusals"
        with open_exchange(home) as ex:
            assert [r.count for r in ex.refusals("claude")] == [115]  # one row, all counted
    finally:
        for process in servers:
            process.send_signal(signal.SIGTERM)
        for process in servers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    with open_exchange(home) as ex:
        assert ex.balance("claude").spent == 975
        assert ex.limits("claude").hourly_used == 975
        assert ex.doctor().healthy and ex.audit().intact
