"""An agent's rate limits in micro-tokens, resolved once per config: the spend path asks
for them on every operation, so they are computed the first time and then looked up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..money import to_micro


@dataclass(frozen=True, slots=True)
class ResolvedLimits:
    hourly: int
    daily: int
    burst: int
    reserve: int


# Resolved limits per config object, for the few configs a process holds (keyed by id,
# holding the config itself so that an id is never reused while its entry lives).
_RESOLVED: dict[int, tuple[object, dict[str, ResolvedLimits]]] = {}
_KEEP = 16


class ConfigViews:
    """Views derived from a config, shared by the validated model (economy/config.py) and
    the light copy the post-commit hook reads (economy/config_cache.py). Needs the
    attributes ``rate_limits`` and ``agents``."""

    rate_limits: Any
    agents: Any

    def limits_for(self, agent: str) -> ResolvedLimits:
        """The agent's rate limits after its overrides, in micro-tokens."""
        entry = _RESOLVED.get(id(self))
        if entry is None or entry[0] is not self:
            if len(_RESOLVED) >= _KEEP:
                _RESOLVED.pop(next(iter(_RESOLVED)))
            entry = _RESOLVED[id(self)] = (self, {})
        found = entry[1].get(agent)
        if found is None:
            found = entry[1][agent] = _resolve(self.rate_limits, self.agents[agent].rate_limits)
        return found


def _resolve(base: Any, override: Any) -> ResolvedLimits:
    def pick(name: str) -> int:
        value = getattr(override, name, None) if override is not None else None
        return to_micro(value if value is not None else getattr(base, name))

    return ResolvedLimits(hourly=pick("hourly"), daily=pick("daily"), burst=pick("burst"),
                          reserve=pick("reserve"))


__all__ = ["ConfigViews", "ResolvedLimits"]
