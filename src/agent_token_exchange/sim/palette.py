"""One palette for every picture: the simulation's PNGs and report, and the dashboard.

The dashboard's stylesheet (``server/static/style.css``) carries the same colours as CSS
variables, written by ``css_variables()``; a test checks the two agree. An agent keeps its
colour everywhere: the seed's six agents by name, any other agent by its position.
"""

from __future__ import annotations

# The seed's agents (and, when many agents are grouped, their kinds). Colour-blind-safe
# hues that read on the PNGs' white and on the dashboard's dark background alike.
AGENT_COLOURS = {
    "claude": "#4c78a8", "builder": "#f58518", "observer": "#54a24b",
    "lambda": "#b279a2", "spark": "#e0b400", "zero": "#72b7b2",
}
# Any other agent, by its position in the list of agents.
SERIES_COLOURS = ("#9d755d", "#ff9da6", "#79706e", "#d67195", "#83bcb6", "#8cd17d",
                  "#a0cbe8", "#ffbe7d", "#b6992d", "#499894")

# Rate limits and other refusals: darker hues than any agent's, drawn with their own
# markers, so a limit is never read as an agent.
KIND_COLOURS = {
    "burst": "#c51b7d", "hourly": "#8c510a", "daily": "#3f007d",
    "reserve": "#d73027", "funds": "#666666", "budget": "#a6761d", "not_allowed": "#01665e",
}
KIND_MARKERS = {"burst": "s", "hourly": "^", "daily": "D"}

# Time-of-day blocks, in the scenario's order: pale tints behind the data.
BLOCK_TINTS = ("#e3edf7", "#f1f1f1", "#fbead6", "#f6dde6", "#e6f2e1", "#efe6f5")

GAIN = "#2e7d32"       # positive nets
LOSS = "#c62828"       # negative nets, refusals, ending below the start
REFERENCE = "#555555"  # the start balance, the reserve: lines to compare against
INK = "#222222"
MUTED = "#7d8b99"


def agent_colour(name: str, position: int) -> str:
    """The colour of an agent (or kind of agent) wherever it is drawn."""
    return AGENT_COLOURS.get(name) or SERIES_COLOURS[position % len(SERIES_COLOURS)]


def css_variables() -> str:
    """The palette as the CSS custom properties the dashboard reads."""
    lines = [f"  --agent-{name}: {colour};" for name, colour in AGENT_COLOURS.items()]
    lines += [f"  --series-{i}: {colour};" for i, colour in enumerate(SERIES_COLOURS)]
    lines += [f"  --kind-{kind.replace('_', '-')}: {colour};"
              for kind, colour in KIND_COLOURS.items()]
    lines += [f"  --gain: {GAIN};", f"  --loss: {LOSS};"]
    return "\n".join(lines)
