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
            if n == 1:  # ready once one operation is done: a loaded machine is slow to start
                os.write(ready_fd, b"r")


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
    assert checked >= KILLS, f"the writer completed only {checked} operations in {KILLS} runs"
    assert time.monotonic() - started < 180


SERVER_KILLS = 8


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_round(home: Path, keys: dict[str, str], round_number: int,
                  rng: random.Random) -> list[str]:
    """Start a server, load it from 16 clients at once (so its writer batches), SIGKILL it
    at a random moment; returns the idempotency keys of every request it answered."""
    import subprocess
    import sys
    import threading

    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    src = str(Path(__file__).resolve().parents[1] / "src")
    server = subprocess.Popen(
        [sys.executable, "-m", "agent_token_exchange", "serve", "--home", str(home),
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": src})
    answered: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        agent = ("zero", "lambda", "builder")[n % 3]
        headers = {"Authorization": f"Bearer {keys[agent]}"}
        with httpx.Client(base_url=url, timeout=30) as http:
            i = 0
            while not stop.is_set():
                i += 1
                key = f"s{round_number}-{n}-{i}"
                try:
                    response = http.post(f"/v1/agents/{agent}/llm", headers={
                        **headers, "Idempotency-Key": key},
                        json={"task_type": "coding", "token_count": 1000, "model": "llama3.2"})
                except httpx.TransportError:
                    return  # the server was killed: this request's fate is unknown
                if response.status_code in (200, 402, 429):  # an outcome, kept under its key
                    answered.append(f"client:agent:{agent}/{key}")

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.05)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        warm = time.monotonic() + 30  # under way first: a loaded machine starts slowly
        while len(answered) < 16 and time.monotonic() < warm:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 0.8))
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
            server.wait()
    return answered


def test_sigkill_of_a_batching_server_loses_no_answered_operation(home, tmp_path):
    """A server killed by SIGKILL while 16 clients load it (so it commits in batches) has
    committed every operation it answered, and leaves a healthy ledger with an intact
    chain, round after round."""

    with open_exchange(home) as ex:
        ring = ex.keys
        keys = {agent: ring.create(agent=agent).key for agent in ("zero", "lambda", "builder")}
    rng = random.Random(11)
    answered_total = 0
    for round_number in range(SERVER_KILLS):
        answered = _server_round(home, keys, round_number, rng)
        answered_total += len(answered)
        with open_exchange(home) as ex:
            report = ex.doctor()
            assert report.healthy, (round_number, [f.message for f in report.errors])
            assert ex.audit().intact
            present = {key for key, _, _ in ex.store.idempotency.outcomes()}
            missing = [key for key in answered if key not in present]
            assert not missing, f"answered but lost: {missing[:5]}"
    assert answered_total >= SERVER_KILLS * 16, f"only {answered_total} answers in all"
