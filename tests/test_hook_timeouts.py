"""The post-commit hook gives up on a ledger that does not answer within about 2 s (issue
10, finding 11): a SQLite database another writer holds, a PostgreSQL server that never
answers. It says so in one line on stderr, exits 0 as hooks do, and the commit is paid
later (by the next hook run or a backfill)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_token_exchange import init_exchange, open_exchange

from .gitrepo import GIT_ENV, Repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    made = Repo(tmp_path / "app")
    made.commit("feat: parser", author="builder@anywhere.dev")
    return made


def run_hook(home: Path, repo: Repo) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "agent_token_exchange", "hook", "post-commit", "--home",
         str(home), "--repo", str(repo.path)],
        capture_output=True, text=True, timeout=60)
    return result, time.monotonic() - started


@pytest.mark.sqlite_only
def test_a_busy_sqlite_ledger_is_given_up_on_within_two_seconds(
        tmp_path: Path, repo: Repo, store_kind: str):
    """A busy sqlite ledger is given up on within two seconds."""
    home = tmp_path / "team"
    init_exchange(home)
    holder = sqlite3.connect(home / ".exchange" / "exchange.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        result, took = run_hook(home, repo)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 0
    assert took < 6, took
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, result.stderr
    assert "busy" in line and "2 s" in line and "backfill" in line
    with open_exchange(home) as ex:
        assert not [t for t in ex.recent_transfers(1000) if t.kind == "commit"]
    # The lock gone, the next run pays it.
    result, _ = run_hook(home, repo)
    assert "builder earned 120.00 tokens" in result.stdout, result.stderr


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def test_a_postgresql_server_that_never_answers_is_given_up_on(
        tmp_path: Path, repo: Repo, silent_server: int):
    """A postgresql server that never answers is given up on."""
    home = tmp_path / "team"
    init_exchange(home)
    (home / ".exchange" / "exchange.db").unlink()
    (home / ".exchange" / "database.url").write_text(
        f"postgresql://atx:hunter2@127.0.0.1:{silent_server}/team\n")
    result, took = run_hook(home, repo)
    assert result.returncode == 0
    assert took < 6, took
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, result.stderr
    assert "cannot connect to PostgreSQL" in line and "backfill" in line
    assert "hunter2" not in line
