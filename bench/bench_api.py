"""Spends through the HTTP API: requests per second and p50/p99 latency at concurrency
1, 16 and 64, against the same server's /health in the same run (the ratio says what the
ledger costs on top of HTTP, JSON and auth).

    python bench/bench_api.py [--requests 2000]

The server is `token-exchange serve`'s app in its own process (so the load generator
does not share its interpreter), over a durable SQLite exchange (synchronous=FULL) with
limits raised so no spend is refused. Every spend is a real LLM charge with an API key.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from agent_token_exchange import init_exchange, open_exchange
from agent_token_exchange.service.api_keys import KeyRing

SERVER = """
import sys, uvicorn
from agent_token_exchange.server import create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False)
"""
AGENTS = ["claude", "builder", "lambda", "spark", "observer", "zero"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(home: Path) -> dict[str, str]:
    """An exchange whose limits never refuse a benchmark spend; one key per agent."""
    init_exchange(home)
    config = home / ".exchange" / "config.toml"
    text = config.read_text()
    for name, value in {"start_balance": 10**9, "hourly": 10**9, "daily": 10**9,
                        "burst": 10**6}.items():
        text = re.sub(rf"^{name} = .*$", f"{name} = {value}", text, count=1, flags=re.M)
    config.write_text(text)
    with open_exchange(home) as ex:
        ring = KeyRing(ex.store, ex.config, ex.clock)
        return {agent: ring.create(agent=agent).key for agent in AGENTS}


async def run(url: str, keys: dict[str, str], what: str, concurrency: int,
              total: int) -> tuple[float, list[float]]:
    """``total`` requests from ``concurrency`` workers; (requests/s, latencies in ms)."""
    latencies: list[float] = []
    remaining = total
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(n: int) -> None:
        nonlocal remaining
        agent = AGENTS[n % len(AGENTS)]
        headers = {"Authorization": f"Bearer {keys[agent]}"}
        body = {"task_type": "coding", "token_count": 1000, "model": "llama3.2"}
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            if what == "health":
                response = await client.get("/health")
            else:
                response = await client.post(f"/v1/agents/{agent}/llm", json=body,
                                             headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{what}: HTTP {response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        for _ in range(min(concurrency, 8)):  # warm connections
            await client.get("/health")
        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - began
    return total / elapsed, latencies


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests per measurement (default 2000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        keys = prepare(home)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(home), str(port)])
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"{url}/health", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            print(f"{args.requests} requests per row; server: uvicorn (1 process), durable "
                  "SQLite (WAL, synchronous=FULL)")
            print(f"{'concurrency':>11} {'route':<22} {'req/s':>8} {'p50 ms':>8} "
                  f"{'p99 ms':>8}   spend/health")
            for concurrency in (1, 16, 64):
                results = {}
                for what in ("health", "spend"):
                    rps, lat = asyncio.run(run(url, keys, what, concurrency, args.requests))
                    results[what] = rps
                    route = "GET /health" if what == "health" else "POST /v1/agents/*/llm"
                    print(f"{concurrency:>11} {route:<22} {rps:>8.0f} "
                          f"{percentile(lat, 50):>8.2f} {percentile(lat, 99):>8.2f}"
                          + (f"   {results['spend'] / results['health']:.2f}"
                             if what == "spend" else ""))
            with open_exchange(home) as ex:
                healthy = ex.doctor().healthy
                spent = sum(ex.balance(a).spent for a in AGENTS)
            expected = 3 * args.requests * 100_000  # 1,000 llama3.2 tokens = 0.1 token
            print(f"ledger after the run: doctor {'healthy' if healthy else 'BROKEN'}, "
                  f"spent {spent:.1f} tokens (expected {expected / 1e6:.1f})")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
