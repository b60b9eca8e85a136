"""Git integration benchmarks. Prints its figures; asserts nothing about speed.

1. Backfill of a generated repository of N commits (default 10,000), in commits per
   second, against a baseline measured in the same run: `git log` + `git patch-id` alone
   (the part of the walk that is git's, not ours). A second backfill of the same history
   (everything already paid) is timed too.
2. The post-commit hook's own run time per commit, measured as a real `git commit` with
   the hook installed minus the same commit without it, and the hook command alone.

    .venv/bin/python bench/bench_git.py [--commits 10000] [--hook-runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent_token_exchange import init_exchange, open_exchange
from agent_token_exchange.economy.config import default_config_text
from agent_token_exchange.integrations.backfill import backfill
from agent_token_exchange.integrations.git import history_changes, run_git

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
       "GIT_AUTHOR_NAME": "Bench"}
AUTHORS = ["claude@team.dev", "builder@team.dev", "lambda@team.dev", "spark@team.dev",
           "observer@team.dev", "zero@team.dev", "someone@else.dev"]
MESSAGES = ["fix: off by one", "feat: new parser", "test: more coverage", "docs: readme",
            "refactor: split module", "chore: bump", "hotfix: critical security patch"]


def git(repo: Path, *args: str, stdin: str | None = None, env: dict | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                          text=True, check=True, env=env or ENV).stdout


def generate(repo: Path, count: int) -> None:
    """N commits, each touching one of 200 files, built with `git fast-import`."""
    git(repo, "init", "-q", "-b", "main")
    lines = []
    base = 1_700_000_000
    for n in range(count):
        author = AUTHORS[n % len(AUTHORS)]
        message = f"{MESSAGES[n % len(MESSAGES)]} #{n}"
        content = f"line {n}\n"
        lines += [
            "commit refs/heads/main", f"mark :{n + 1}",
            f"author A <{author}> {base + n * 60} +0000",
            f"committer Bench <bench@example.com> {base + n * 60} +0000",
            f"data {len(message.encode())}", message,
        ]
        if n:
            lines.append(f"from :{n}")
        lines += [f"M 644 inline src/file{n % 200}.txt", f"data {len(content.encode())}",
                  content]
    git(repo, "fast-import", "--quiet", stdin="\n".join(lines) + "\n")
    git(repo, "reset", "-q", "--hard", "main")


def bench_backfill(count: int, root: Path) -> None:
    repo = root / "repo"
    repo.mkdir()
    started = time.perf_counter()
    generate(repo, count)
    print(f"generated {count} commits in {time.perf_counter() - started:.1f}s")

    started = time.perf_counter()
    run_git(repo, "log", "--format=%H%x1f%ae%x1f%P%x1f%ct%x1f%B", "HEAD")
    history_changes(repo, [])
    git_only = time.perf_counter() - started

    home = root / "home"
    (home / ".exchange").mkdir(parents=True)
    # A budget big enough that no commit is capped (we time paying, not refusing),
    # written before init funds the contracts.
    text = default_config_text().replace("budget = 10000\n", "budget = 100000000\n")
    (home / ".exchange" / "config.toml").write_text(text)
    init_exchange(home)
    with open_exchange(home) as ex:
        started = time.perf_counter()
        report = backfill(ex, repo, project="bench")
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = backfill(ex, repo, project="bench")
        second = time.perf_counter() - started
        assert again.paid == 0 and again.already_paid == report.paid
        problems = [f.message for f in ex.doctor().findings if not f.ok]
    print(f"backfill of {count} commits: paid {report.paid} (unknown authors "
          f"{report.unknown_authors}) in {first:.2f}s = {count / first:,.0f} commits/s")
    print(f"  baseline (git log + patch-id only): {git_only:.2f}s = "
          f"{count / git_only:,.0f} commits/s; backfill takes {first / git_only:.1f}x that")
    print(f"  second backfill (all already paid): {second:.2f}s = "
          f"{count / second:,.0f} commits/s; doctor problems: {len(problems)}")


def bench_hook(runs: int, root: Path) -> None:
    repo = root / "hooked"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    home = root / "hook-home"
    init_exchange(home)
    env = {**ENV, "GIT_AUTHOR_EMAIL": "claude@team.dev"}

    def commit_times(n: int, tag: str) -> list[float]:
        times = []
        for i in range(n):
            (repo / f"{tag}{i}.txt").write_text(f"{i}\n")
            git(repo, "add", ".", env=env)
            started = time.perf_counter()
            git(repo, "commit", "-q", "-m", f"feat: {tag} {i}", env=env)
            times.append(time.perf_counter() - started)
        return times

    plain = commit_times(runs, "plain")
    import contextlib
    import io

    from agent_token_exchange.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["hooks", "install", "--repo", str(repo), "--home", str(home)]) == 0
    hooked = commit_times(runs, "hooked")
    command = [sys.executable, "-m", "agent_token_exchange", "hook", "post-commit",
               "--home", str(home)]
    alone = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=repo, capture_output=True, check=True, env=env)
        alone.append(time.perf_counter() - started)
    with open_exchange(home) as ex:
        paid = ex.balance("claude").earned
    p = statistics.median
    print(f"\ngit commit without the hook: median {p(plain) * 1000:.0f} ms")
    print(f"git commit with the hook:    median {p(hooked) * 1000:.0f} ms "
          f"(the hook adds {(p(hooked) - p(plain)) * 1000:.0f} ms per commit)")
    print(f"the hook command alone (replaying an already-paid commit): median "
          f"{p(alone) * 1000:.0f} ms, max {max(alone) * 1000:.0f} ms; "
          f"{runs} commits paid {int(paid)} tokens")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--hook-runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_backfill(args.commits, Path(folder))
        bench_hook(args.hook_runs, Path(folder))


if __name__ == "__main__":
    main()
