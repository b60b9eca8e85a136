"""The gateway's cost: added latency, streamed throughput, and estimate overruns.

    python bench/bench_gateway.py [--runs 3] [--requests 400] [--streams 640]
                                  [--overrun-requests 1000]

Processes on this machine: the stand-in provider (tests/standin_provider.py, in
place of OpenAI and Anthropic: there is no network), `token-exchange serve`'s app over a
durable SQLite exchange (synchronous=FULL) with the stand-in as its upstreams, and this
load generator. Every request through the gateway is authenticated, reserved, forwarded,
settled and charged for real.

- Added latency: the same plain OpenAI-format request sent to the stand-in directly,
  through a bare forwarder (a Starlette route passing it on with httpx: the least any
  Python gateway adds) and through the gateway, in turn; p50 and p99 of each and the
  differences.
- Throughput at 64 concurrent streamed requests, through the gateway ÷ direct, in the same
  run: against a stand-in that streams as fast as it can (the worst case for the ratio)
  and one that paces its words 10 ms apart (closer to a real provider).
- Overruns: requests whose charge exceeded their reservation, per 1,000, for each
  estimator (tiktoken, chars, bytes) against each stand-in protocol, with prompts of
  English, code, JSON, CJK and emoji; each answer uses all of max_tokens (the worst case:
  any under-estimate of the prompt is then an overrun).

Each figure is the median of ``--runs`` runs with their range; overruns are counted once
(the prompts and counts are deterministic).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the stand-in provider lives with the tests

from tests.standin_provider import ANTHROPIC_KEY, OPENAI_KEY  # noqa: E402

from agent_token_exchange import init_exchange, open_exchange  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from rounds import uvicorn_stack  # noqa: E402

PROVIDER = """
import sys, uvicorn
sys.path.insert(0, sys.argv[3])
from tests.standin_provider import StandinProvider
provider = StandinProvider()
provider.reply_words, provider.word_delay = 100000, float(sys.argv[2])
provider.keep_requests = False
uvicorn.run(provider.app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""
# The least any Python gateway adds: a Starlette route that forwards the request with
# httpx and passes the answer back, with no key, no ledger and no metering.
FORWARDER = """
import sys, httpx, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
upstream, client = sys.argv[2], httpx.AsyncClient(timeout=30)
async def forward(request):
    answer = await client.post(upstream + "/v1/chat/completions", content=await request.body(),
                               headers={"authorization": request.headers["authorization"],
                                        "content-type": "application/json"})
    return Response(answer.content, status_code=answer.status_code,
                    media_type="application/json")
app = Starlette(routes=[Route("/v1/chat/completions", forward, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""
SERVER = """
import sys, uvicorn
from agent_token_exchange.server.app import KEEP_ALIVE_SECONDS, create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS)
"""
ESTIMATORS = ("tiktoken", "chars", "bytes")
PROMPT = [{"role": "user", "content": "Say something short about ledgers."}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_text(fast: str, slow: str) -> str:
    """Upstreams for the fast and the paced stand-in, one per estimator and protocol."""
    parts = []
    for pace, url in (("fast", fast), ("paced", slow)):
        for estimator in ESTIMATORS:
            for protocol, base in (("openai", f"{url}/v1"), ("anthropic", url)):
                name = f"{protocol}-{estimator}-{pace}"
                key = "STANDIN_OPENAI_KEY" if protocol == "openai" else "STANDIN_ANTHROPIC_KEY"
                parts.append(f'[upstreams."{name}"]\nprotocol = "{protocol}"\n'
                             f'base_url = "{base}"\napi_key_env = "{key}"\n'
                             f'estimator = "{estimator}"\n')
                parts.append(f'[models."{name}"]\ninput_cost_per_1k = 3\n'
                             f'output_cost_per_1k = 15\nupstream = "{name}"\n'
                             f'upstream_model = "standin-{protocol}"\n')
    return "\n".join(parts)


def prepare(home: Path, fast: str, slow: str) -> str:
    """A durable exchange whose limits never refuse a benchmark request; one agent key."""
    init_exchange(home)
    config = home / ".exchange" / "config.toml"
    text = config.read_text()
    for name, value in {"start_balance": 10**9, "hourly": 10**9, "daily": 10**9,
                        "burst": 10**6}.items():
        text = re.sub(rf"^{name} = .*$", f"{name} = {value}", text, count=1, flags=re.M)
    config.write_text(text + config_text(fast, slow))
    with open_exchange(home) as ex:
        ex.open_accounts()
        ex.award("zero", 10**8, "bench", "enough for every benchmark request")
        return ex.keys.create(agent="zero").key


def start(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env)


def wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{url} did not start") from None
            time.sleep(0.1)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


# -- added latency ------------------------------------------------------------------------


def latency(direct: str, forwarder: str, gateway: str, key: str,
            count: int) -> dict[str, float]:
    """One plain request direct, one through the bare forwarder, one through the gateway,
    in turn; times in ms."""
    times: dict[str, list[float]] = {"direct": [], "forwarder": [], "gateway": []}
    body = {"messages": PROMPT, "max_tokens": 12}
    with httpx.Client(timeout=30) as client:
        for n in range(count + 20):
            for route in times:
                if route == "gateway":
                    url, headers = f"{gateway}/v1/chat/completions", {
                        "authorization": f"Bearer {key}"}
                    payload = {**body, "model": "openai-tiktoken-fast"}
                else:
                    base = direct if route == "direct" else forwarder
                    url, headers = f"{base}/v1/chat/completions", {
                        "authorization": f"Bearer {OPENAI_KEY}"}
                    payload = {**body, "model": "standin-openai"}
                began = time.perf_counter()
                answer = client.post(url, json=payload, headers=headers)
                elapsed = (time.perf_counter() - began) * 1000
                if answer.status_code != 200:
                    raise SystemExit(f"{route}: HTTP {answer.status_code} {answer.text[:200]}")
                if n >= 20:  # the first few warm connections and caches
                    times[route].append(elapsed)
    out = {}
    for route, values in times.items():
        out[f"{route} p50"] = percentile(values, 50)
        out[f"{route} p99"] = percentile(values, 99)
    for quantile in ("p50", "p99"):
        out[f"added {quantile}"] = out[f"gateway {quantile}"] - out[f"direct {quantile}"]
        out[f"forwarder added {quantile}"] = (out[f"forwarder {quantile}"]
                                              - out[f"direct {quantile}"])
    return out


# -- streamed throughput ------------------------------------------------------------------


async def streams(base: str, headers: dict[str, str], model: str, concurrency: int,
                  total: int) -> float:
    """``total`` streamed requests of 20 words from ``concurrency`` workers: requests/s."""
    remaining = total
    body = {"model": model, "messages": PROMPT, "max_tokens": 20, "stream": True}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            async with client.stream("POST", "/v1/chat/completions", json=body,
                                     headers=headers) as answer:
                if answer.status_code != 200:
                    raise SystemExit(f"HTTP {answer.status_code}: {await answer.aread()}")
                async for _ in answer.aiter_bytes():
                    pass

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - began)


def throughput(direct: str, gateway: str, key: str, pace: str, total: int) -> dict[str, float]:
    direct_rps = asyncio.run(streams(direct, {"authorization": f"Bearer {OPENAI_KEY}"},
                                     "standin-openai", 64, total))
    gateway_rps = asyncio.run(streams(gateway, {"authorization": f"Bearer {key}"},
                                      f"openai-tiktoken-{pace}", 64, total))
    return {f"{pace} direct req/s": direct_rps, f"{pace} gateway req/s": gateway_rps,
            f"{pace} ratio": gateway_rps / direct_rps}


# -- overruns -----------------------------------------------------------------------------


def prompts(count: int, seed: int = 7) -> list[str]:
    """English and code from this repository's own files, JSON, CJK and emoji, mixed."""
    rng = random.Random(seed)
    sources = sorted((ROOT / "src").rglob("*.py")) + [ROOT / "README.md"]
    text = "\n".join(path.read_text("utf-8") for path in sources)
    cjk = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(4000))
    emoji = "".join(chr(rng.randrange(0x1F300, 0x1F64F)) for _ in range(1000))
    out = []
    for n in range(count):
        kind = n % 5
        size = rng.randrange(20, 2000)
        start = rng.randrange(0, len(text) - size)
        if kind in (0, 1):  # prose and code as they come
            out.append(text[start:start + size])
        elif kind == 2:
            out.append(json.dumps({"id": n, "rows": [text[start:start + size // 4]] * 3,
                                   "n": [rng.random() for _ in range(size // 40)]}))
        elif kind == 3:
            out.append(text[start:start + size // 2] + cjk[:rng.randrange(10, max(11, size // 2))])
        else:
            out.append(text[start:start + size // 2] + emoji[:rng.randrange(5, max(6, size // 8))])
    return out


async def overruns(gateway: str, key: str, texts: list[str]) -> dict[str, dict[str, float]]:
    """For each estimator and protocol, how many requests were charged more than they
    reserved, and by how much (in tokens of input, and of exchange tokens)."""
    limits = httpx.Limits(max_connections=16)
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=gateway, limits=limits, timeout=60) as client:
        semaphore = asyncio.Semaphore(16)

        async def send(protocol: str, model: str, text: str) -> None:
            body = {"model": model, "max_tokens": 16,
                    "messages": [{"role": "user", "content": text}]}
            path = "/v1/chat/completions" if protocol == "openai" else "/v1/messages"
            async with semaphore:
                answer = await client.post(path, json=body, headers={
                    "authorization": f"Bearer {key}", "anthropic-version": "2023-06-01"})
            if answer.status_code != 200:
                failures.append(f"{model}: HTTP {answer.status_code} {answer.text[:120]}")

        for estimator in ESTIMATORS:
            for protocol in ("openai", "anthropic"):
                model = f"{protocol}-{estimator}-fast"
                await asyncio.gather(*(send(protocol, model, text) for text in texts))
    found: dict[str, dict[str, float]] = {}
    for failure in failures:
        print(f"  a request failed: {failure}")
    home_rows = _closed_rows()
    for estimator in ESTIMATORS:
        for protocol in ("openai", "anthropic"):
            model = f"{protocol}-{estimator}-fast"
            rows = [r for r in home_rows if r.model == model and r.outcome == "captured"]
            over = [r for r in rows if (r.overrun or 0) > 0]
            under = [r.input_tokens - r.input_estimate for r in over]
            found[f"{estimator} / {protocol}"] = {
                "requests": len(rows), "per 1000": 1000 * len(over) / max(1, len(rows)),
                "mean input tokens over": statistics.mean(under) if under else 0.0,
                "max input tokens over": max(under) if under else 0,
                "max tokens charged over": max((r.overrun or 0) for r in over) / 1e6
                if over else 0.0,
                "mean reserved / charged": statistics.mean(
                    r.amount / r.charged for r in rows if r.charged) if rows else 0.0}
    return found


_HOME: list[Path] = []


def _closed_rows() -> list:
    with open_exchange(_HOME[0]) as ex:
        return ex.store.reservations.closed(10**6)


# -- the run ------------------------------------------------------------------------------


def summary(runs: list[dict[str, float]], name: str, unit: str = "", digits: int = 2) -> str:
    values = [run[name] for run in runs]
    return (f"{name:<26} {statistics.median(values):>10.{digits}f}{unit}   "
            f"(range {min(values):.{digits}f} – {max(values):.{digits}f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400,
                        help="plain requests per route per run for latency (default 400)")
    parser.add_argument("--streams", type=int, default=640,
                        help="streamed requests per route per run at c=64 (default 640)")
    parser.add_argument("--overrun-requests", type=int, default=1000,
                        help="requests per estimator and protocol (default 1000)")
    parser.add_argument("--overruns-only", action="store_true",
                        help="skip the latency and throughput runs")
    args = parser.parse_args()
    env = {**__import__("os").environ, "STANDIN_OPENAI_KEY": OPENAI_KEY,
           "STANDIN_ANTHROPIC_KEY": ANTHROPIC_KEY}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        _HOME.append(home)
        ports = {name: free_port() for name in ("fast", "paced", "gateway", "forwarder")}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        key = prepare(home, urls["fast"], urls["paced"])
        processes = [start(PROVIDER, str(ports["fast"]), "0", str(ROOT)),
                     start(PROVIDER, str(ports["paced"]), "0.01", str(ROOT)),
                     start(SERVER, str(home), str(ports["gateway"]), env=env),
                     start(FORWARDER, str(ports["forwarder"]), urls["fast"])]
        try:
            for name, process in zip(("fast", "paced", "gateway", "forwarder"), processes,
                                     strict=True):
                wait_for(urls[name] + ("/health" if name == "gateway" else "/"), process)
            print(f"stand-in provider and gateway on this machine (2 cores; uvicorn on "
                  f"{uvicorn_stack()}), durable SQLite; "
                  f"{args.runs} runs, median (range)")
            runs = []
            for _ in range(0 if args.overruns_only else args.runs):
                figures = latency(urls["fast"], urls["forwarder"], urls["gateway"], key,
                                  args.requests)
                figures.update(throughput(urls["fast"], urls["gateway"], key, "fast",
                                          args.streams))
                figures.update(throughput(urls["paced"], urls["gateway"], key, "paced",
                                          args.streams))
                runs.append(figures)
            if runs:
                print(f"\nplain requests, direct / bare forwarder / gateway in turn, "
                      f"{args.requests} each")
                for name in ("direct p50", "gateway p50", "added p50", "direct p99",
                             "gateway p99", "added p99", "forwarder added p50",
                             "forwarder added p99"):
                    print("  " + summary(runs, name, " ms"))
                print(f"\n64 concurrent streamed requests (20 words), {args.streams} per route")
                for pace in ("fast", "paced"):
                    for name in (f"{pace} direct req/s", f"{pace} gateway req/s"):
                        print("  " + summary(runs, name, "", 0))
                    print("  " + summary(runs, f"{pace} ratio"))
            print(f"\noverruns (charged > reserved), {args.overrun_requests} requests per row, "
                  "max_tokens 16 used in full")
            found = asyncio.run(overruns(urls["gateway"], key,
                                         prompts(args.overrun_requests)))
            for row, stats in found.items():
                print(f"  {row:<22} {stats['per 1000']:>6.1f} per 1000   input over by "
                      f"mean {stats['mean input tokens over']:.1f} / max "
                      f"{stats['max input tokens over']} tokens, max "
                      f"{stats['max tokens charged over']:.6f} exchange tokens; reserved/"
                      f"charged {stats['mean reserved / charged']:.2f}")
            with open_exchange(home) as ex:
                report = ex.doctor()
            print(f"\nledger after the run: doctor {'healthy' if report.healthy else 'BROKEN'}")
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
