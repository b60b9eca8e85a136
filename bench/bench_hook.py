"""The post-commit hook's wall time against a bare ``python -c pass``, in the same run.

    .venv/bin/python bench/bench_hook.py [--runs 15]

Each run makes a commit (untimed) in a repository of a known agent, then times the hook
command git would run (``python -m agent_token_exchange hook post-commit``), which pays
it; the baseline is the same interpreter starting and doing nothing. Three rounds,
interleaved; the median and range of the per-round ratio of medians. Target: <= 4.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import agent_token_exchange
from agent_token_exchange import init_exchange, open_exchange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rounds import ROUNDS, summary, verdict  # noqa: E402

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_AUTHOR_NAME": "Claude", "GIT_AUTHOR_EMAIL": "claude@team.dev",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True, env=ENV)


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=True, env=ENV)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="hook runs per round")
    args = parser.parse_args()
    # As an installed package is: compiled to bytecode (even under PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(Path(agent_token_exchange.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, repo = root / "home", root / "repo"
        init_exchange(home)
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        hook = [sys.executable, "-m", "agent_token_exchange", "hook", "post-commit",
                "--home", str(home)]
        bare = [sys.executable, "-c", "pass"]
        ratios, hooks, bares = [], [], []
        made = 0
        for round_number in range(ROUNDS):
            hook_times, bare_times = [], []
            for i in range(args.runs):
                (repo / f"f{round_number}-{i}.txt").write_text(f"{i}\n")
                git(repo, "add", ".")
                git(repo, "commit", "-q", "-m", f"feat: change {round_number}-{i}")
                made += 1
                bare_times.append(timed(bare, repo))
                hook_times.append(timed(hook, repo))
            hooks.append(statistics.median(hook_times) * 1000)
            bares.append(statistics.median(bare_times) * 1000)
            ratios.append(hooks[-1] / bares[-1])
        with open_exchange(home) as ex:
            paid = len([e for e in ex.history("claude", 10_000) if e.type == "commit"])
        print(f"{ROUNDS} rounds of {args.runs} runs (median [range] of per-round medians):")
        print(f"  python -c pass:         {summary(bares, 1)} ms")
        print(f"  hook post-commit:       {summary(hooks, 1)} ms")
        print(f"  ratio hook / bare:      {summary(ratios)}  {verdict(ratios, 4, at_most=True)}")
        print(f"  commits paid: {paid} of {made}")


if __name__ == "__main__":
    main()
