"""`token-exchange serve` as a real process: it listens, answers, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx

from agent_token_exchange import init_exchange

from .conftest import free_port

ENTRY = "from agent_token_exchange.cli import main; main()"


def test_serve_answers_health_and_the_dashboard(tmp_path):
    """serve as a real process answers /health and the dashboard, asks a key for the API and stops
    on SIGINT."""
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
    """serve without an exchange exits 2 with one clear line and no traceback."""
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, "serve", "--home", str(tmp_path)],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no exchange at")
    assert "Traceback" not in result.stderr


def test_serve_on_a_busy_port_is_one_clear_line_and_exit_2(tmp_path):
    """uvicorn would sys.exit(3), our integrity-problem code, after printing "Serving…"."""
    init_exchange(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-c", ENTRY, "serve", "--port", str(port),
             "--home", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "in use" in result.stderr and "--port" in result.stderr
    assert "Serving" not in result.stderr + result.stdout


def test_serve_on_an_address_not_on_this_machine_is_one_clear_line(tmp_path):
    """serve on an address not on this machine exits 2 with one line pointing at --host."""
    init_exchange(tmp_path)
    result = subprocess.run(  # 192.0.2.1: TEST-NET-1, never a local address
        [sys.executable, "-c", ENTRY, "serve", "--host", "192.0.2.1", "--port", "0",
         "--home", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: cannot listen on 192.0.2.1:0: ")
    assert "--host" in result.stderr
    assert "Serving" not in result.stderr + result.stdout


def _serve_stderr(home, port: int) -> str:
    """Start serve, wait until it answers, stop it with Ctrl-C and return what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", "--port", str(port), "--home", str(home)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    return err


def test_serve_prints_the_dashboard_url_and_warns_without_keys(tmp_path):
    """serve prints a dashboard address ready to open with a #key= login, and warns (only)
    while the exchange has no API key."""
    from agent_token_exchange import open_exchange

    init_exchange(tmp_path)
    port = free_port()
    err = _serve_stderr(tmp_path, port)
    assert f"Dashboard: http://127.0.0.1:{port}/#key=<key>" in err
    assert "No API keys yet" in err and "keys create --admin" in err
    with open_exchange(tmp_path) as ex:
        ex.keys.create(admin=True)
    err = _serve_stderr(tmp_path, port)
    assert f"http://127.0.0.1:{port}/#key=" in err and "No API keys yet" not in err


def test_serve_keeps_an_idle_connection_longer_than_clients_keep_theirs(tmp_path):
    """A connection left idle for 6 s (httpx, under the openai and anthropic SDKs, reuses
    one idle up to 5 s) still answers the next request on it: the server does not close it
    first, which would reset the client's next request."""
    init_exchange(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", "--port", str(port), "--home", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        with connection:
            for wait in (0, 6):
                time.sleep(wait)
                connection.sendall(request)
                answer = _one_response(connection)
                assert answer.startswith(b"HTTP/1.1 200"), (wait, answer[:80])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def _one_response(connection: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (head and Content-Length body) read off ``connection``;
    b"" when the server closed it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = connection.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
