"""How simulation time grows with the number of agents and with the hours simulated.

Each figure is CPU seconds of the process (``time.process_time``: the work done, which
other jobs on the machine do not inflate) and wall seconds, with the ratio against the
baseline measured first in the same run (the default six agents for 24 hours), and the
cost per exchange operation. Agents beyond six are the default agents cloned in teams.

    .venv/bin/python bench/sim_scaling.py            # agents 6..1000 at 24 h; hours 6..96
    .venv/bin/python bench/sim_scaling.py --quick    # smaller sizes
"""

from __future__ import annotations

import argparse
import time

from agent_token_exchange.sim.engine import run_simulation
from agent_token_exchange.sim.scenario import load_scenario, merge, validate_scenario


def scenario_with(agents: int):
    base = load_scenario().model_dump(mode="python")
    return validate_scenario(merge(base, {"population": {"agents": agents if agents > 6
                                                          else 0}}))


def measure(agents: int, hours: int) -> tuple[float, float, int, int]:
    scenario = scenario_with(agents)
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_simulation(scenario, 1, hours=hours)
    operations = result.transfers[-1].seq + len(result.refusals)
    return (time.process_time() - cpu, time.perf_counter() - wall, operations,
            len(result.agents))


def row(label: str, figures: tuple[float, float, int, int], base_cpu: float) -> None:
    cpu, wall, ops, _ = figures
    print(f"{label:>22} {cpu:8.2f} {wall:8.2f} {cpu / base_cpu:8.1f}x {ops:9,} "
          f"{cpu / ops * 1e6:9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    agent_sizes = [6, 60, 250] if args.quick else [6, 60, 250, 500, 1000]
    hour_sizes = [6, 24, 48] if args.quick else [6, 12, 24, 48, 96]
    hour_agents = 60

    measure(6, 24)  # warm-up: imports and the first SQLite file
    base = measure(6, 24)
    print(f"{'run':>22} {'cpu s':>8} {'wall s':>8} {'vs base':>9} {'ops':>9} {'cpu us/op':>9}")
    row("baseline 6 agents 24h", base, base[0])
    print("-- agents, 24 hours")
    for agents in agent_sizes[1:]:
        row(f"{agents} agents", measure(agents, 24), base[0])
    print(f"-- hours, {hour_agents} agents")
    for hours in hour_sizes:
        row(f"{hours} hours", measure(hour_agents, hours), base[0])


if __name__ == "__main__":
    main()
