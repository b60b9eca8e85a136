"""Spend throughput and latency. Prints figures; asserts nothing (machines are noisy).

1. Durable spends per second through the Python API (ex.llm, fsync on every commit)
   against a minimal Python + SQLite transfer loop with the same durability (BEGIN
   IMMEDIATE; read a balance; two updates; one insert; COMMIT), measured in the same run
   and interleaved, as a ratio: the median and range of 3 rounds. Target: at least 0.85.
2. Spend latency for an agent with 1,000 and with 1,000,000 earlier transfers: the
   rate-limit check must not grow with history, so the two should be about equal.

Run:  .venv/bin/python bench/bench_spend.py [--spends 1000] [--history 1000000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent_token_exchange import SimulatedClock, init_exchange, open_exchange
from agent_token_exchange.economy.config import default_config_text
from agent_token_exchange.ledger.chain import transfer_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rounds import ROUNDS, summary, verdict  # noqa: E402

UNLIMITED = (
    default_config_text()
    .replace("hourly = 1000", "hourly = 1000000000")
    .replace("daily = 10000", "daily = 1000000000")
    .replace("start_balance = 10000", "start_balance = 1000000000")
)


def make_home(root: Path, name: str) -> Path:
    home = root / name
    (home / ".exchange").mkdir(parents=True)
    (home / ".exchange" / "config.toml").write_text(UNLIMITED)
    init_exchange(home, clock=SimulatedClock())
    return home


def api_spends(home: Path, count: int) -> float:
    """Durable spends per second through the public API."""
    clock = SimulatedClock()
    with open_exchange(home, clock=clock, durable=True) as ex:
        start = time.perf_counter()
        for _ in range(count):
            clock.advance(micros=1000)
            ex.llm("zero", "coding", 100)
        return count / (time.perf_counter() - start)


def minimal_loop(path: Path, count: int) -> float:
    """The floor: the least a durable double-entry transfer can do in Python + SQLite."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS balances (name TEXT PRIMARY KEY, balance INTEGER)")
    conn.execute("CREATE TABLE IF NOT EXISTS transfers (seq INTEGER PRIMARY KEY, src TEXT, "
                 "dst TEXT, amount INTEGER)")
    conn.execute("INSERT OR IGNORE INTO balances VALUES ('a', 1000000000), ('b', 0)")
    start = time.perf_counter()
    for _ in range(count):
        conn.execute("BEGIN IMMEDIATE")
        (balance,) = conn.execute("SELECT balance FROM balances WHERE name = 'a'").fetchone()
        if balance >= 10:
            conn.execute("UPDATE balances SET balance = balance - 10 WHERE name = 'a'")
            conn.execute("UPDATE balances SET balance = balance + 10 WHERE name = 'b'")
            conn.execute("INSERT INTO transfers (src, dst, amount) VALUES ('a', 'b', 10)")
        conn.execute("COMMIT")
    rate = count / (time.perf_counter() - start)
    conn.close()
    return rate


def add_history(home: Path, transfers: int) -> None:
    """Give zero ``transfers`` earlier inference spends, written in bulk and consistently
    (transfers, consumption with cumulative sums, cached balances), older than a day."""
    db = sqlite3.connect(home / ".exchange" / "exchange.db", isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    start_at = SimulatedClock().now_us() - (transfers + 100_000) * 1_000_000
    (seq, previous) = db.execute("SELECT last_seq, last_hash FROM ledger_head").fetchone()
    batch = 50_000
    for offset in range(0, transfers, batch):
        n = min(batch, transfers - offset)
        rows = [(seq + offset + i + 1, start_at + (offset + i) * 1_000_000) for i in range(n)]
        hashed = []
        for s, at in rows:  # keep the audit chain whole, as store.transfers.post would
            previous = transfer_hash(previous, {
                "seq": s, "at": at, "kind": "inference", "source": "agent:zero",
                "destination": "system:inference", "amount": 1, "description": "history",
                "project": None, "model": "llama3.2", "inference_tokens": 1, "pool_id": None,
                "idempotency_key": None})
            hashed.append((s, at, previous))
        db.executemany(
            "INSERT INTO transfers (seq, at, kind, source, destination, amount, description, "
            "model, inference_tokens, hash) VALUES (?, ?, 'inference', 'agent:zero', "
            "'system:inference', 1, 'history', 'llama3.2', 1, ?)", hashed)
        db.executemany(
            "INSERT INTO consumption (agent, at, cumulative, amount, transfer_seq) "
            "VALUES ('zero', ?, ?, 1, ?)",
            [(at, s - seq, s) for s, at in rows])
    db.execute("UPDATE ledger_head SET last_seq = ?, last_hash = ?", (seq + transfers, previous))
    db.execute("UPDATE accounts SET balance = balance - ?, spent = spent + ? "
               "WHERE name = 'agent:zero'", (transfers, transfers))
    db.execute("UPDATE accounts SET balance = balance + ?, spent = spent WHERE name = "
               "'system:inference'", (transfers,))
    db.execute("COMMIT")
    db.close()


def spend_latencies(home: Path, count: int) -> list[float]:
    clock = SimulatedClock()
    with open_exchange(home, clock=clock, durable=True) as ex:
        samples = []
        for _ in range(count):
            clock.advance(micros=1000)
            start = time.perf_counter()
            ex.llm("zero", "coding", 100)
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def balance_latencies(home: Path, count: int) -> list[float]:
    """A wallet read (tokens, earned, spent and its credit-market net) timed ``count``
    times: constant whatever the history (migration 11)."""
    with open_exchange(home) as ex:
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            ex.balance("zero")
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spends", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atx-bench-") as tmp:
        root = Path(tmp)
        home = make_home(root, "throughput")
        api, floor, ratios = [], [], []
        for _ in range(ROUNDS):  # interleaved rounds so both see the same machine
            floor.append(minimal_loop(root / "minimal.db", args.spends))
            api.append(api_spends(home, args.spends))
            ratios.append(api[-1] / floor[-1])
        print(f"Durable spends per second ({ROUNDS} interleaved rounds, {args.spends} each; "
              "median [range]):")
        print(f"  minimal SQLite transfer loop: {summary(floor, 0)} /s")
        print(f"  exchange API (ex.llm):        {summary(api, 0)} /s")
        print(f"  ratio API / minimal:          {summary(ratios)}  {verdict(ratios, 0.85)}")

        small, large = make_home(root, "small"), make_home(root, "large")
        add_history(small, 1_000)
        t0 = time.perf_counter()
        add_history(large, args.history)
        print(f"\n(built a history of {args.history:,} transfers in "
              f"{time.perf_counter() - t0:.1f} s)")
        lat_small = spend_latencies(small, args.spends)
        lat_large = spend_latencies(large, args.spends)
        for label, samples in ((f"{1000:>9,}", lat_small), (f"{args.history:>9,}", lat_large)):
            q = statistics.quantiles(samples, n=100)
            print(f"  spend latency after {label} transfers: p50 {q[49]:.3f} ms, "
                  f"p99 {q[98]:.3f} ms")
        p50_small = statistics.median(lat_small)
        p50_large = statistics.median(lat_large)
        print(f"  ratio p50 large / small:       {p50_large / p50_small:.2f}  (target ~1)")
        reads = {label: balance_latencies(h, args.spends)
                 for label, h in (("small", small), ("large", large))}
        for label, samples in reads.items():
            size = 1000 if label == "small" else args.history
            print(f"  balance read after {size:>9,} transfers: p50 "
                  f"{statistics.median(samples):.3f} ms")
        print(f"  ratio p50 large / small:       "
              f"{statistics.median(reads['large']) / statistics.median(reads['small']):.2f}"
              "  (target ~1)")


if __name__ == "__main__":
    main()
