"""What spending costs and what it may spend: an LLM request's model and price, and the
checks every outflow and every consumption passes (funds, reserve, burst, hourly, daily).
Pure functions over config and numbers, as ``rules.py`` (which reaches them too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from ..money import display_amount, display_limit, to_micro

if TYPE_CHECKING:
    from .config import Config
    from .limits import ResolvedLimits

# -- LLM costs --------------------------------------------------------------------------


def preferred_llm(config: Config, agent: str, task_type: str) -> str:
    """The model an agent uses for a task type: its preference, else its primary LLM."""
    spec = config.agents[agent]
    return spec.preferred_llms.get(task_type, spec.primary_llm)


def model_note(config: Config, agent: str, task_type: str) -> str:
    """Why a request that named no model got the one it did: nothing to say when the
    agent has a model for the task type; else that its primary LLM stood in (any task
    type is allowed, as in the seed), with the task types it has a model for."""
    spec = config.agents[agent]
    if task_type in spec.preferred_llms:
        return ""
    named = ", ".join(spec.preferred_llms) or "none"
    return (f"{agent} has no model for task type {task_type!r}, so its primary model "
            f"{spec.primary_llm} was used (task types with a model: {named})")


def llm_cost(config: Config, model: str, token_count: int) -> int:
    """Cost in micro-tokens of ``token_count`` inference tokens, rounded half-up once."""
    if model not in config.models:
        known = ", ".join(sorted(config.models))
        raise InvalidInput(f"unknown model {model!r} (known: {known})")
    price_micro_per_1k = to_micro(config.models[model].cost_per_1k)
    # cost = tokens * price / 1000, half-up, in integers only.
    return (2 * token_count * price_micro_per_1k + 1000) // 2000


# -- Rate limits ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendDecision:
    """The verdict on one outflow. ``code`` is None when allowed."""

    code: str | None = None
    message: str = ""
    used: int = 0
    limit: int = 0
    needed: int = 0

    @property
    def allowed(self) -> bool:
        return self.code is None


ALLOWED = SpendDecision()


def check_outflow(limits: ResolvedLimits, *, amount: int, balance: int) -> SpendDecision:
    """Funds and emergency reserve: every outflow an agent starts must pass this."""
    if amount > balance:
        return SpendDecision(
            "insufficient_funds",
            f"Insufficient funds ({display_amount(balance)} available, "
            f"need {display_amount(amount)})",
            used=balance,
            limit=balance,
            needed=amount,
        )
    if balance - amount < limits.reserve:
        return SpendDecision(
            "reserve",
            f"Would breach emergency reserve ({display_amount(balance)} - "
            f"{display_amount(amount)} < {display_limit(limits.reserve)})",
            used=balance,
            limit=limits.reserve,
            needed=amount,
        )
    return ALLOWED


def check_consumption(
    limits: ResolvedLimits, *, amount: int, balance: int, hourly_used: int, daily_used: int
) -> SpendDecision:
    """The seed's order: burst, funds, reserve, hourly, daily. Exact, in micro-tokens."""
    if amount > limits.burst:
        return SpendDecision(
            "burst_limit",
            f"Exceeds burst limit ({display_amount(amount)} > {display_limit(limits.burst)})",
            used=amount,
            limit=limits.burst,
            needed=amount,
        )
    outflow = check_outflow(limits, amount=amount, balance=balance)
    if not outflow.allowed:
        return outflow
    if hourly_used + amount > limits.hourly:
        return SpendDecision(
            "hourly_limit",
            f"Hourly limit reached ({display_amount(hourly_used)}/{display_limit(limits.hourly)}"
            f" used, need {display_amount(amount)})",
            used=hourly_used,
            limit=limits.hourly,
            needed=amount,
        )
    if daily_used + amount > limits.daily:
        return SpendDecision(
            "daily_limit",
            f"Daily limit reached ({display_amount(daily_used)}/{display_limit(limits.daily)}"
            f" used, need {display_amount(amount)})",
            used=daily_used,
            limit=limits.daily,
            needed=amount,
        )
    return ALLOWED


def consumption_headroom(
    limits: ResolvedLimits, *, balance: int, hourly_used: int, daily_used: int
) -> int:
    """The largest inference spend ``check_consumption`` would allow right now."""
    return max(0, min(limits.hourly - hourly_used, limits.daily - daily_used, limits.burst,
                      balance - limits.reserve))
