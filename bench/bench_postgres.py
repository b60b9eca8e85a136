"""Spends per second on PostgreSQL with 1, 4 and 8 client processes, against pgbench's
built-in TPC-B-like transaction on the same server with the same client counts, in the
same run; and SQLite with 4 processes sharing one exchange file (against 1 process).

    .venv/bin/python bench/bench_postgres.py [--seconds 5] [--server URL]

Each client process is one agent spending on inference as fast as it can, every spend
under an idempotency key, every spend its own transaction (lock the wallet and the
inference account, check the limits, append the transfer, commit). The economy's limits
are set out of reach so that nothing is refused. The server is $TOKEN_EXCHANGE_BENCH_PG,
else postgresql://postgres@127.0.0.1:5432/test; the run creates two scratch databases
there (one for the exchange, one for pgbench -i) and drops them at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from agent_token_exchange import SystemClock, init_exchange, open_exchange
from agent_token_exchange.economy.config import default_config_text

CLIENT_COUNTS = (1, 4, 8)
PGBENCH_SCALE = 8  # pgbench's advice: a scale at least the largest client count
_fork = multiprocessing.get_context("fork")


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


def make_home(database: str | None) -> Path:
    home = Path(tempfile.mkdtemp(prefix="atx-bench-"))
    (home / ".exchange").mkdir()
    (home / ".exchange" / "config.toml").write_text(bench_config(max(CLIENT_COUNTS)))
    init_exchange(home, database=database)
    return home


def _client(index: int, barrier: Any, stop_at: Any, results: Any, home: str) -> None:
    agent = f"bench{index + 1}"
    done = 0
    with open_exchange(home, clock=SystemClock()) as ex:
        ex.llm(agent, "coding", 1000, idempotency_key=f"warm-{index}-{secrets.token_hex(4)}")
        barrier.wait()
        deadline = stop_at.value
        run = secrets.token_hex(4)
        while time.time() < deadline:
            ex.llm(agent, "coding", 1000, idempotency_key=f"{run}-{index}-{done}")
            done += 1
    results.put(done)


def spends_per_second(home: Path, clients: int, seconds: float) -> float:
    barrier = _fork.Barrier(clients + 1)
    stop_at = _fork.Value("d", 0.0)
    results = _fork.Queue()
    procs = [_fork.Process(target=_client, args=(i, barrier, stop_at, results, str(home)))
             for i in range(clients)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # let every client connect and warm up before the clock starts
    stop_at.value = time.time() + seconds
    barrier.wait()  # releases the clients, which then read stop_at
    total = sum(results.get(timeout=seconds + 120) for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


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
        print(f"{'clients':>7}  {'exchange spends/s':>17}  {'pgbench tps':>11}  {'ratio':>6}")
        pg_home = make_home(with_dbname(args.server, exchange_db))
        homes.append(pg_home)
        for clients in CLIENT_COUNTS:
            ours = spends_per_second(pg_home, clients, args.seconds)
            theirs = pgbench_tps(with_dbname(args.server, pgbench_db), clients, args.seconds)
            print(f"{clients:>7}  {ours:>17.0f}  {theirs:>11.0f}  {ours / theirs:>6.2f}")
        print("(each spend is ~17 statements and appends to the one audit chain, so spends "
              "commit one at a time;\n pgbench's 5 statements touch rows spread over "
              f"{PGBENCH_SCALE} branches and commit in parallel)")

        sqlite_home = make_home(None)
        homes.append(sqlite_home)
        one = spends_per_second(sqlite_home, 1, args.seconds)
        four = spends_per_second(sqlite_home, 4, args.seconds)
        print(f"SQLite (one file, synchronous=FULL): 1 process {one:.0f} spends/s, "
              f"4 processes {four:.0f} spends/s (ratio {four / one:.2f})")
        with open_exchange(sqlite_home) as ex:
            assert ex.doctor().healthy, "doctor found a problem after the SQLite run"
        with open_exchange(pg_home) as ex:
            assert ex.doctor().healthy, "doctor found a problem after the PostgreSQL run"
    finally:
        for name in (exchange_db, pgbench_db):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
