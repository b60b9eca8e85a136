"""`token-exchange serve` as a real process: it listens, answers, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from agent_token_exchange import init_exchange

from .conftest import free_port

ENTRY = "from agent_token_exchange.cli import main; main()"


def test_serve_answers_health_and_the_dashboard(tmp_path):
    init_exchange(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", "--port", str(port), "--home", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert "Agent Token Exchange" in page.text
        assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
        assert httpx.get(f"http://127.0.0.1:{port}/v1/agents").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_serve_without_an_exchange_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, "serve", "--home", str(tmp_path)],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no exchange at")
    assert "Traceback" not in result.stderr
