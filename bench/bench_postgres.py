"""Spends per second on PostgreSQL from 64 concurrent callers in one process, against
pgbench's built-in TPC-B-like transaction with 8 clients on the same server, in the same
run: three interleaved rounds, the median and range of the ratio (target >= 1.0).

    .venv/bin/python bench/bench_postgres.py [--seconds 5] [--callers 64] [--server URL]

Each caller is a thread spending on inference for its own agent as fast as it can, every
spend under an idempotency key, through an exchange opened as the server opens them
(``exchange_opener``), so the process's writer may put many callers' spends in one
transaction. The economy's limits are set out of reach so that nothing is refused. The
server is $TOKEN_EXCHANGE_BENCH_PG, else postgresql://postgres@127.0.0.1:5432/test; the
run creates two scratch databases there (one for the exchange, one for ``pgbench -i``)
and drops them at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from agent_token_exchange import init_exchange, open_exchange
from agent_token_exchange.economy.config import default_config_text
from agent_token_exchange.service.lifecycle import exchange_opener

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rounds import ROUNDS, summary, verdict  # noqa: E402

PGBENCH_CLIENTS = 8
PGBENCH_SCALE = 8  # pgbench's advice: a scale at least its client count


def bench_config(agents: int) -> str:
    """The default economy with limits out of reach and one agent per client."""
    text = default_config_text()
    text = re.sub(r"(?m)^start_balance = .*$", "start_balance = 1000000000", text)
    for key in ("hourly", "daily", "burst"):
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = 1000000000", text, count=1)
    for i in range(1, agents + 1):
        text += (f"\n[agents.bench{i}]\nlevel = 5\nbase_rate = 100\n"
                 f'primary_llm = "claude-sonnet"\nemails = []\naliases = []\n')
    return text


def make_home(database: str, agents: int) -> Path:
    home = Path(tempfile.mkdtemp(prefix="atx-bench-"))
    (home / ".exchange").mkdir()
    (home / ".exchange" / "config.toml").write_text(bench_config(agents))
    init_exchange(home, database=database)
    return home


def spends_per_second(home: Path, callers: int, seconds: float) -> float:
    """Spends per second from ``callers`` threads of this process, one agent each."""
    opener = exchange_opener(home)
    exchanges = [opener() for _ in range(callers)]
    counts = [0] * callers
    start = threading.Barrier(callers + 1)
    stop = threading.Event()
    run = secrets.token_hex(4)

    def caller(index: int) -> None:
        ex, agent = exchanges[index], f"bench{index + 1}"
        ex.llm(agent, "coding", 1000, idempotency_key=f"warm-{run}-{index}")
        start.wait()
        done = 0
        while not stop.is_set():
            ex.llm(agent, "coding", 1000, idempotency_key=f"{run}-{index}-{done}")
            done += 1
        counts[index] = done

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for ex in exchanges:
        ex.close()
    return sum(counts) / elapsed


def pgbench_tps(url: str, clients: int, seconds: float) -> float:
    out = subprocess.run(
        ["pgbench", "-n", "-c", str(clients), "-j", str(clients), "-T", str(round(seconds)),
         url], capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise SystemExit(f"could not read pgbench's result:\n{out}")
    return float(match.group(1))


def with_dbname(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument("--callers", type=int, default=64, help="concurrent callers")
    parser.add_argument("--server", default=os.environ.get(
        "TOKEN_EXCHANGE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not on PATH (it comes with PostgreSQL's client tools)")

    suffix = secrets.token_hex(4)
    exchange_db, pgbench_db = f"atx_bench_{suffix}", f"atx_pgbench_{suffix}"
    admin = psycopg.connect(args.server, autocommit=True)
    homes: list[Path] = []
    try:
        for name in (exchange_db, pgbench_db):
            admin.execute(f'CREATE DATABASE "{name}"')
        subprocess.run(["pgbench", "-i", "-q", "-s", str(PGBENCH_SCALE),
                        with_dbname(args.server, pgbench_db)],
                       check=True, capture_output=True)
        server = admin.execute("SHOW server_version").fetchone()[0]
        sync = admin.execute("SHOW synchronous_commit").fetchone()[0]
        print(f"PostgreSQL {server} (synchronous_commit={sync}), {os.cpu_count()} CPUs, "
              f"{args.seconds:g} s per run; pgbench TPC-B-like at scale {PGBENCH_SCALE}")
        home = make_home(with_dbname(args.server, exchange_db), args.callers)
        homes.append(home)
        ours, theirs, ratios = [], [], []
        for _ in range(ROUNDS):
            ours.append(spends_per_second(home, args.callers, args.seconds))
            theirs.append(pgbench_tps(with_dbname(args.server, pgbench_db), PGBENCH_CLIENTS,
                                      args.seconds))
            ratios.append(ours[-1] / theirs[-1])
        with open_exchange(home) as ex:
            healthy = ex.doctor().healthy
        print(f"exchange, {args.callers} callers in one process: {summary(ours, 0)} spends/s")
        print(f"pgbench TPC-B, {PGBENCH_CLIENTS} clients:            {summary(theirs, 0)} tps")
        print(f"ratio exchange / pgbench:                {summary(ratios)}  "
              f"{verdict(ratios, 1.0)}")
        print(f"ledger after the run: doctor {'healthy' if healthy else 'BROKEN'}")
    finally:
        for name in (exchange_db, pgbench_db):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
