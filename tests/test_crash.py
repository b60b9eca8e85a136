"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it reported
done, and leaves a database that opens with doctor clean and the audit chain intact."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from agent_token_exchange import Refused, open_exchange

from .ledger_checks import kept_outcomes

KILLS = 60


def _writer(home: Path, done_log: Path, round_number: int, ready_fd: int) -> None:
    """Child process: operate through the Python API (durable) until killed. Each key is
    logged, flushed and fsynced only after its operation returned."""
    with open_exchange(home, durable=True) as ex, open(done_log, "a") as log:
        pool = ex.pool_list()[0].id
        os.write(ready_fd, b"r")
        n = 0
        while True:
            n += 1
            key = f"r{round_number}-{n}"
            try:
                match n % 4:
                    case 0:
                        ex.award("builder", "1.5", "crash-test", "work", idempotency_key=key)
                    case 1:
                        ex.llm("zero", "coding", 100, idempotency_key=key)
                    case 2:
                        ex.pool_contribute(pool, "claude", 1, idempotency_key=key)
                    case 3:
                        ex.llm("lambda", "coding", 1000, idempotency_key=key)
            except Refused:
                pass  # a refusal is an outcome too: it was recorded under the key
            log.write(key + "\n")
            log.flush()
            os.fsync(log.fileno())


def _run_and_kill(home: Path, done_log: Path, round_number: int, rng: random.Random) -> None:
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            os.close(ready_read)
            _writer(home, done_log, round_number, ready_write)
        finally:
            os._exit(1)
    os.close(ready_write)
    try:
        assert os.read(ready_read, 1) == b"r", "the writer died before it was ready"
        time.sleep(rng.uniform(0.005, 0.060))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    finally:
        os.close(ready_read)


def _reported_done(done_log: Path) -> list[str]:
    text = done_log.read_text() if done_log.exists() else ""
    return text.split("\n")[:-1]  # a line cut off by the kill has no newline: not reported


def test_sigkill_at_random_moments_loses_nothing_reported_done(home, tmp_path):
    """A writer killed by SIGKILL at random moments loses no operation it reported done and leaves a
    healthy ledger with an intact audit chain."""
    with open_exchange(home) as ex:
        pool = ex.pool_create("crash", "claude", 1, open=True)
        ex.pool_join(pool.id, "builder")
    done_log = tmp_path / "done.log"
    rng = random.Random(5)
    started = time.monotonic()
    checked = 0
    for round_number in range(KILLS):
        _run_and_kill(home, done_log, round_number, rng)
        with open_exchange(home) as ex:
            report = ex.doctor()
            assert report.healthy, (round_number, [f.message for f in report.errors])
            assert ex.audit().intact
            done = _reported_done(done_log)
            present = set(kept_outcomes(ex))
            missing = [key for key in done if f"client:{key}" not in present]
            assert not missing, f"reported done but lost: {missing[:5]}"
            checked = len(done)
    assert checked > KILLS, f"the writer completed only {checked} operations in {KILLS} runs"
    assert time.monotonic() - started < 60
