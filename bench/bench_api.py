"""Spends through the HTTP API against the same server's /health, at 16 and 64
concurrent connections: requests per second (the ratio spend / health: what the ledger
costs on top of HTTP, JSON and auth) and the spend's p50/p99 latency.

    python bench/bench_api.py [--seconds 5]

The load comes from ``wrk`` (a compiled load generator, so it is not the bottleneck;
``make bench-api`` installs Debian's when it is missing). The server is `token-exchange
serve`'s app in its own process (uvicorn, one process) over a durable SQLite exchange
(synchronous=FULL) with limits raised so no spend is refused; every spend is a real LLM
charge with an agent's API key. Three interleaved rounds; median and range. Targets:
spend / health >= 0.5 at both concurrencies, and p99 <= 4 x p50 at 64.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from agent_token_exchange import init_exchange, open_exchange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rounds import ROUNDS, summary, uvicorn_stack, verdict  # noqa: E402

SERVER = """
import sys, uvicorn
from agent_token_exchange.server.app import KEEP_ALIVE_SECONDS, create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS)
"""
AGENTS = ["claude", "builder", "lambda", "spark", "observer", "zero"]

# wrk's script: spends go round-robin over the agents, each with its own key; at the end
# one JSON line with the figures.
SCRIPT = """
local keys = {%(keys)s}
local agents = {%(agents)s}
local n = 0
local body = '{"task_type": "coding", "token_count": 1000, "model": "llama3.2"}'
request = function()
  if "%(what)s" == "health" then return wrk.format("GET", "/health") end
  n = n + 1
  local i = (n %% #agents) + 1
  return wrk.format("POST", "/v1/agents/" .. agents[i] .. "/llm",
    {["Authorization"] = "Bearer " .. keys[i], ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %%d, "seconds": %%f, "bad": %%d, "p50": %%d, "p99": %%d}\\n',
    summary.requests, summary.duration / 1e6, bad, latency:percentile(50),
    latency:percentile(99)))
end
"""


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
        ex.open_accounts()
        ring = ex.keys
        return {agent: ring.create(agent=agent).key for agent in AGENTS}


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run; requests/s and latency percentiles in ms."""
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{round(seconds)}s",
         "--timeout", "30s", "-s", str(script), url],
        capture_output=True, text=True, check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    if figures["bad"]:
        raise SystemExit(f"{figures['bad']} requests failed:\n{out}")
    return {"rps": figures["requests"] / figures["seconds"], "p50": figures["p50"] / 1000,
            "p99": figures["p99"] / 1000, "requests": figures["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH (`apt-get install wrk`, or `make bench-api`)")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        keys = prepare(home)
        scripts = {}
        for what in ("health", "spend"):
            scripts[what] = Path(tmp) / f"{what}.lua"
            scripts[what].write_text(SCRIPT % {
                "what": what, "keys": ", ".join(f'"{keys[a]}"' for a in AGENTS),
                "agents": ", ".join(f'"{a}"' for a in AGENTS)})
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(home), str(port)])
        spends = 0
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/health", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            print(f"wrk, {args.seconds:g} s per run, {ROUNDS} rounds (median [range]); server: "
                  f"uvicorn (1 process, {uvicorn_stack()}), durable SQLite (WAL, "
                  "synchronous=FULL)")
            for connections in (16, 64):
                ratios, rps, p50, p99, tails = [], [], [], [], []
                for _ in range(ROUNDS):
                    health = wrk(url, scripts["health"], connections, args.seconds)
                    spend = wrk(url, scripts["spend"], connections, args.seconds)
                    spends += int(spend["requests"])
                    ratios.append(spend["rps"] / health["rps"])
                    rps.append(spend["rps"])
                    p50.append(spend["p50"])
                    p99.append(spend["p99"])
                    tails.append(spend["p99"] / spend["p50"])
                print(f"c={connections:<3} spend {summary(rps, 0)} req/s, p50 {summary(p50)} ms, "
                      f"p99 {summary(p99)} ms")
                print(f"      ratio spend / health: {summary(ratios)}  {verdict(ratios, 0.5)}")
                if connections == 64:
                    print(f"      p99 / p50:            {summary(tails)}  "
                          f"{verdict(tails, 4, at_most=True)}")
        finally:
            server.terminate()
            server.wait(timeout=10)
        with open_exchange(home) as ex:
            healthy = ex.doctor().healthy
            spent = sum(ex.balance(a).spent for a in AGENTS)
        print(f"ledger after the run: doctor {'healthy' if healthy else 'BROKEN'}; "
              f"{spends} spends answered 200, spent {spent} tokens "
              f"(at least {spends / 10}: wrk does not count requests still in flight at the end)")


if __name__ == "__main__":
    main()
