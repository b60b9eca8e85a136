"""What the audit chain costs, measured against baselines in the same run.

1. Chaining overhead: a bare SQLite loop that appends a transfer and moves two balances
   per transaction, with and without the chain's work (read the head, sha256, write the
   hash and the head). Same file settings, same durability. Printed as a ratio.
2. The head lookup is O(1): API spend latency with 1,000 and with 100,000 earlier
   transfers in the ledger (ratio near 1 means history size does not matter).
3. `audit verify` throughput: transfers recomputed per second over 100,000 transfers.

Run:  .venv/bin/python bench/bench_audit.py
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path

from agent_token_exchange import SimulatedClock, init_exchange, open_exchange
from agent_token_exchange.economy.accounts import MINT, wallet
from agent_token_exchange.ledger import Kind
from agent_token_exchange.ledger.chain import GENESIS, transfer_hash

LOOP = 3_000
HISTORY = 100_000


def bare_loop(path: Path, chained: bool) -> float:
    """Transactions per second for: insert a transfer, move two balances (+ the chain)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER)")
    conn.execute("CREATE TABLE transfers (seq INTEGER PRIMARY KEY, at INTEGER, kind TEXT, "
                 "source TEXT, destination TEXT, amount INTEGER, description TEXT, hash TEXT)")
    conn.execute("CREATE TABLE head (id INTEGER PRIMARY KEY, last_seq INTEGER, last_hash TEXT)")
    conn.execute("INSERT INTO head VALUES (1, 0, ?)", (GENESIS,))
    conn.executemany("INSERT INTO accounts VALUES (?, 0)", [("a",), ("b",)])
    started = time.perf_counter()
    for n in range(LOOP):
        conn.execute("BEGIN IMMEDIATE")
        if chained:
            seq, previous = conn.execute(
                "UPDATE head SET last_seq = last_seq + 1 WHERE id = 1 "
                "RETURNING last_seq, last_hash").fetchone()
            digest = hashlib.sha256(
                previous.encode() + b"\n" + f'[{seq},{n},"award","a","b",5,"x"]'.encode()
            ).hexdigest()
            conn.execute("INSERT INTO transfers VALUES (?, ?, 'award', 'a', 'b', 5, 'x', ?)",
                         (seq, n, digest))
            conn.execute("UPDATE head SET last_hash = ? WHERE id = 1", (digest,))
        else:
            conn.execute("INSERT INTO transfers (at, kind, source, destination, amount, "
                         "description) VALUES (?, 'award', 'a', 'b', 5, 'x')", (n,))
        conn.execute("UPDATE accounts SET balance = balance - 5 WHERE name = 'a'")
        conn.execute("UPDATE accounts SET balance = balance + 5 WHERE name = 'b'")
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return LOOP / elapsed


def grow(home: Path, clock: SimulatedClock, count: int) -> None:
    """Append ``count`` awards straight through the store, in one transaction."""
    with open_exchange(home, clock=clock, durable=False) as ex, ex.store.transaction():
        for _ in range(count):
            ex.store.transfers.post(at=clock.now_us(), kind=Kind.AWARD, source=MINT,
                                   destination=wallet("builder"), amount=1)


def spend_latency_us(home: Path, clock: SimulatedClock, spends: int = 300) -> float:
    with open_exchange(home, clock=clock, durable=False) as ex:
        started = time.perf_counter()
        for _ in range(spends):
            clock.advance(3600)  # stay clear of the rate limits
            ex.llm("zero", "coding", 100)
        return (time.perf_counter() - started) / spends * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plain = bare_loop(root / "plain.db", chained=False)
        chained = bare_loop(root / "chained.db", chained=True)
        print(f"bare loop, {LOOP} transactions (synchronous=OFF):")
        print(f"  without chain: {plain:10,.0f} tx/s")
        print(f"  with chain:    {chained:10,.0f} tx/s   ratio {chained / plain:.2f}")

        clock = SimulatedClock()
        home = root / "exchange"
        init_exchange(home, clock=clock)
        grow(home, clock, 1_000)
        small = spend_latency_us(home, clock)
        grow(home, clock, HISTORY - 1_000)
        large = spend_latency_us(home, clock)
        print("API spend latency (durable=False):")
        print(f"  ~1,000 earlier transfers:   {small:8.0f} µs")
        print(f"  ~{HISTORY:,} earlier transfers: {large:8.0f} µs   ratio {large / small:.2f}")

        with open_exchange(home, clock=clock, durable=False) as ex:
            started = time.perf_counter()
            report = ex.audit()
            elapsed = time.perf_counter() - started
        assert report.intact
        print(f"audit verify: {report.transfers:,} transfers in {elapsed:.2f} s "
              f"({report.transfers / elapsed:,.0f} transfers/s)")
        print(f"  (one sha256 of a transfer alone: "
              f"{_hash_rate():,.0f} per second on this machine)")


def _hash_rate() -> float:
    fields = {"seq": 1, "at": 2, "kind": "award", "source": "a", "destination": "b",
              "amount": 5, "description": "x", "project": None, "model": None,
              "inference_tokens": None, "pool_id": None, "idempotency_key": None}
    started = time.perf_counter()
    for _ in range(50_000):
        transfer_hash(GENESIS, fields)
    return 50_000 / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
