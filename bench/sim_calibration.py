"""Calibration of the default simulation against the seed's "Final Balances" table.

Runs the default scenario over N seeds (20 unless told) and prints, per agent, the mean
earned and spent beside the seed's figures with the deviation, then the seed's
qualitative findings: claude alone in the red in most runs, builder ends richest, zero
spends least, claude hits both burst and hourly limits, nobody goes below its reserve.
Exits 1 if any check fails.

    .venv/bin/python bench/sim_calibration.py            # 20 seeds: 1..20
    .venv/bin/python bench/sim_calibration.py --seeds 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from agent_token_exchange.sim.engine import run_simulation
from agent_token_exchange.sim.scenario import load_scenario

SEED_TABLE = {
    "claude": (3255, 3935), "builder": (5538, 977), "observer": (4260, 284),
    "lambda": (4103, 105), "spark": (1978, 1419), "zero": (1539, 75),
}
TOLERANCE = 0.30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    scenario = load_scenario()
    started = time.process_time()
    runs = [run_simulation(scenario, seed, verify=True) for seed in range(1, args.seeds + 1)]
    cpu = time.process_time() - started
    n = len(runs)
    failures = []

    print(f"Default scenario, {n} seeds (1..{n}), {cpu / n:.3f} s CPU per 24-hour run")
    print(f"{'agent':9} {'earned':>8} {'seed':>6} {'dev':>6} {'sd':>6}   "
          f"{'spent':>8} {'seed':>6} {'dev':>6} {'sd':>6}   {'final':>7} {'in red':>7}")
    for name, (seed_earned, seed_spent) in SEED_TABLE.items():
        agents = [next(a for a in r.agents if a.name == name) for r in runs]
        earned = [a.earned / 1e6 for a in agents]
        spent = [a.spent / 1e6 for a in agents]
        final = statistics.mean(a.final / 1e6 for a in agents)
        red = sum(1 for a in agents if a.net < 0)
        dev_e = statistics.mean(earned) / seed_earned - 1
        dev_s = statistics.mean(spent) / seed_spent - 1
        ok = abs(dev_e) <= TOLERANCE and abs(dev_s) <= TOLERANCE
        if not ok:
            failures.append(f"{name}: mean outside ±30 %")
        print(f"{name:9} {statistics.mean(earned):8.0f} {seed_earned:6} {dev_e:+6.0%} "
              f"{statistics.pstdev(earned):6.0f}   {statistics.mean(spent):8.0f} "
              f"{seed_spent:6} {dev_s:+6.0%} {statistics.pstdev(spent):6.0f}   "
              f"{final:7.0f} {red:4}/{n}  {'ok' if ok else 'OUT OF RANGE'}")

    def check(label: str, count: int, need_most: bool = True) -> None:
        good = count > n / 2 if need_most else count == n
        print(f"  {'ok ' if good else 'FAIL'} {label}: {count}/{n}")
        if not good:
            failures.append(label)

    print("Seed findings:")
    check("claude is the only agent in the red",
          sum(1 for r in runs if [a.name for a in r.agents if a.net < 0] == ["claude"]))
    check("builder ends richest",
          sum(1 for r in runs if max(r.agents, key=lambda a: a.final).name == "builder"))
    check("zero spends least",
          sum(1 for r in runs if min(r.agents, key=lambda a: a.spent).name == "zero"))
    for kind in ("burst", "hourly"):
        check(f"claude hits the {kind} limit",
              sum(1 for r in runs if any(e.agent == "claude" and e.kind == kind
                                         for e in r.rate_limit_events)))
    check("no agent below its reserve",
          sum(1 for r in runs if all(a.min_balance >= a.reserve for a in r.agents)),
          need_most=False)
    print("PASS" if not failures else "FAIL: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
