"""The benchmarks still run (tiny sizes; figures are not asserted — they are for people)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_spend_benchmark_runs_and_prints_its_ratios():
    """The spend benchmark runs at tiny sizes and prints its ratio lines."""
    run = subprocess.run([sys.executable, str(BENCH / "bench_spend.py"), "--spends", "30",
                          "--history", "3000"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "ratio API / minimal" in run.stdout and "ratio p50 large / small" in run.stdout
