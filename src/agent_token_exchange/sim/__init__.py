"""The economy simulation: the seed's 24-hour experiment, run on the real exchange.

    scenario.py    what runs: agents' habits, time-of-day blocks, pools, rule changes
    engine.py      drives exchange.Exchange on a SimulatedClock in a throwaway database
    report.py      one run as JSON, CSV and console tables in the seed's shape
    summary.py     many runs (mean and spread) and sweeps of a config key
    charts.py      PNG charts (matplotlib, Agg)
    html_report.py one self-contained HTML page
    experiment.py  what `token-exchange simulate` runs and writes
"""
