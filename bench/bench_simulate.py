"""`token-exchange simulate --seed 1` wall time, without and with ``--out`` (the report
and its charts), as a user runs it: a new process each time.

    .venv/bin/python bench/bench_simulate.py

Three rounds each; the median and range. Targets: <= 0.5 s without --out, <= 1 s with.
The CPU time the run used (user + system) is shown beside the wall time: on a shared
machine the wall time grows with others' load, the CPU time much less.
"""

from __future__ import annotations

import compileall
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import agent_token_exchange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rounds import ROUNDS, summary, verdict  # noqa: E402

COMMAND = [sys.executable, "-m", "agent_token_exchange", "simulate", "--seed", "1"]


def wall(extra: list[str], cpu: list[float]) -> float:
    """The run's wall time; its CPU time (user + system) is appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(COMMAND + extra, capture_output=True, check=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return elapsed


def main() -> None:
    # As an installed package is: compiled to bytecode (even under PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(Path(agent_token_exchange.__file__).parent, quiet=1)
    plain, drawn, plain_cpu, drawn_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(ROUNDS):
            plain.append(wall([], plain_cpu))
            drawn.append(wall(["--out", str(Path(tmp) / f"run{n}")], drawn_cpu))
    print(f"simulate --seed 1, {ROUNDS} runs each (median [range]):")
    print(f"  without --out: {summary(plain)} s  {verdict(plain, 0.5, at_most=True)}"
          f"  cpu {summary(plain_cpu)} s")
    print(f"  with --out:    {summary(drawn)} s  {verdict(drawn, 1.0, at_most=True)}"
          f"  cpu {summary(drawn_cpu)} s")


if __name__ == "__main__":
    main()
