"""Governance's rules, pure: which parameters may be proposed and what values they take
(exactly as config.toml would take them), a vote's tally and a proposal's outcome, and
the effective config, config.toml with the enacted changes laid over it.

A parameter is named by its path in config.toml:

    rate_limits.hourly | daily | burst | reserve
    models.<model>.cost_per_1k
    contracts.<contract>.multiplier
    issues.priority_rewards.<P1…>      issues.type_multipliers.<type>
    start_balance

Only names the config already holds may be proposed (a model, contract, priority or
type it lacks is bad input). A per-agent ``rate_limits`` table in config.toml still
wins for that agent: the overlay changes the defaults it falls back to.

Import-light (no pydantic unless a value is validated): the post-commit hook lays the
enacted changes over its light config (economy/config_cache.py) too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import InvalidInput
from .governance_records import CHOICES

RATE_LIMITS = ("hourly", "daily", "burst", "reserve")
# The config.py type each kind of parameter validates as.
_TYPE_OF = {"rate_limits.hourly": "PositiveTokens", "rate_limits.daily": "PositiveTokens",
            "rate_limits.burst": "PositiveTokens", "rate_limits.reserve": "Tokens",
            "start_balance": "Tokens", "cost_per_1k": "Tokens", "multiplier": "Multiplier",
            "priority_rewards": "Tokens", "type_multipliers": "Multiplier"}
HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Path:
    """A parameter's name taken apart: the table it lives in, the entry (a model,
    contract, priority or type; "" for a top-level or rate limit) and the field."""

    table: str  # "", "rate_limits", "models", "contracts", "priority_rewards", "type_multipliers"
    entry: str
    field: str

    @property
    def kind(self) -> str:
        if self.table in ("", "rate_limits"):
            return f"{self.table}.{self.field}".lstrip(".")
        return self.field if self.table in ("models", "contracts") else self.table


def allowed_parameters(config: Any) -> list[str]:
    """Every parameter this config lets a proposal change, in config.toml's order."""
    names = [f"rate_limits.{name}" for name in RATE_LIMITS]
    names += [f"models.{name}.cost_per_1k" for name, model in config.models.items()
              if model.input_cost_per_1k is None]
    names += [f"contracts.{contract.name}.multiplier" for contract in config.contracts]
    names += [f"issues.priority_rewards.{p}" for p in config.issues.priority_rewards]
    names += [f"issues.type_multipliers.{t}" for t in config.issues.type_multipliers]
    return [*names, "start_balance"]


def parse_parameter(config: Any, name: object) -> Path:
    """The parameter ``name`` names, or InvalidInput saying what may be proposed."""
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise InvalidInput(f"parameter must be a name like rate_limits.hourly, got "
                           f"{str(name)[:40]!r}")
    path = _split(name)
    if path is None or name not in allowed_parameters(config):
        raise InvalidInput(_unknown(config, name, path))
    return path


def _split(name: str) -> Path | None:
    if name == "start_balance":
        return Path("", "", "start_balance")
    head, _, rest = name.partition(".")
    if head == "rate_limits" and rest in RATE_LIMITS:
        return Path("rate_limits", "", rest)
    if head == "models" and rest.endswith(".cost_per_1k"):  # model names may hold dots
        return Path("models", rest.removesuffix(".cost_per_1k"), "cost_per_1k")
    if head == "contracts" and rest.endswith(".multiplier"):
        return Path("contracts", rest.removesuffix(".multiplier"), "multiplier")
    table, _, entry = rest.partition(".")
    if head == "issues" and table in ("priority_rewards", "type_multipliers") and entry:
        return Path(table, entry, table)
    return None


def _unknown(config: Any, name: str, path: Path | None) -> str:
    if path is not None and path.table == "models" and path.entry in config.models:
        return (f"models.{path.entry} has separate input and output prices: its cost_per_1k "
                "does not apply, so it may not be proposed")
    if path is not None and path.table:
        known = {"models": list(config.models),
                 "contracts": [c.name for c in config.contracts],
                 "priority_rewards": list(config.issues.priority_rewards),
                 "type_multipliers": list(config.issues.type_multipliers)}.get(path.table)
        if known is not None:
            return (f"{name}: unknown {path.table.rstrip('s').replace('_', ' ')} "
                    f"{path.entry!r} (known: {', '.join(known)})")
    return (f"{name[:60]!r} may not be proposed: use rate_limits.hourly|daily|burst|reserve, "
            "models.<model>.cost_per_1k, contracts.<contract>.multiplier, "
            "issues.priority_rewards.<P>, issues.type_multipliers.<type> or start_balance")


def validate_value(config: Any, name: str, value: object) -> Decimal:
    """``value`` for parameter ``name`` as config.toml would take it (the same type and
    bounds as economy/config.py), or InvalidInput naming the parameter."""
    path = parse_parameter(config, name)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidInput(f"{name}: the value must be a number, got {str(value)[:40]!r}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidInput(f"{name}: {str(value)[:40]!r} is not a number") from None
    if not number.is_finite():
        raise InvalidInput(f"{name}: the value must be a finite number")
    from pydantic import TypeAdapter, ValidationError

    from . import config as config_types

    adapter: TypeAdapter[Decimal] = TypeAdapter(getattr(config_types, _TYPE_OF[path.kind]))
    try:
        checked = adapter.validate_python(number)
    except ValidationError as exc:
        raise InvalidInput(f"{name}: {exc.errors()[0]['msg']} (got {number})") from None
    return Decimal(int(checked)) if checked == checked.to_integral() else checked.normalize()


def config_value(config: Any, name: str) -> Decimal:
    """What ``config`` says for a parameter it allows."""
    path = parse_parameter(config, name)
    if path.table == "":
        value: Decimal = config.start_balance
    elif path.table == "rate_limits":
        value = getattr(config.rate_limits, path.field)
    elif path.table == "models":
        value = config.models[path.entry].cost_per_1k
    elif path.table == "contracts":
        value = next(c.multiplier for c in config.contracts if c.name == path.entry)
    else:
        value = getattr(config.issues, path.table)[path.entry]
    return value


def overlay(config: Any, changes: Mapping[str, Decimal]) -> Any:
    """``config`` with ``changes`` (parameter -> value) laid over it. A change naming
    something config.toml no longer holds (a model removed since) is left out."""
    allowed = set(allowed_parameters(config))
    for name, value in changes.items():
        if name not in allowed:
            continue
        config = _set(config, _split(name) or Path("", "", name), value)
    return config


def _set(config: Any, path: Path, value: Decimal) -> Any:
    if path.table == "":
        return _replace(config, start_balance=value)
    if path.table == "rate_limits":
        return _replace(config, rate_limits=_replace(config.rate_limits, **{path.field: value}))
    if path.table == "models":
        models = dict(config.models)
        models[path.entry] = _replace(models[path.entry], cost_per_1k=value)
        return _replace(config, models=models)
    if path.table == "contracts":
        contracts = [_replace(c, multiplier=value) if c.name == path.entry else c
                     for c in config.contracts]
        return _replace(config, contracts=contracts)
    table = {**getattr(config.issues, path.table), path.entry: value}
    return _replace(config, issues=_replace(config.issues, **{path.table: table}))


def _replace(model: Any, **changes: Any) -> Any:
    """A copy of a validated model (pydantic's, or the hook's light copy) with ``changes``."""
    copy = getattr(model, "model_copy", None)
    if copy is not None:
        return copy(update=changes)
    return type(model)(**{**vars(model), **changes})


# -- votes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    total_stake: int

    @property
    def voted(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def turnout(self) -> Decimal:
        """The share of all stake at the proposal's creation that voted (0 when none)."""
        if self.total_stake <= 0:
            return Decimal(0)
        return (Decimal(self.voted) / Decimal(self.total_stake)).quantize(Decimal("0.000001"))


def tally(votes: Mapping[str, tuple[str, int]], total_stake: int) -> Tally:
    """Votes (agent -> (choice, power)) added up by choice."""
    sums = dict.fromkeys(CHOICES, 0)
    for choice, power in votes.values():
        sums[choice] += power
    return Tally(sums["yes"], sums["no"], sums["abstain"], total_stake)


def has_quorum(result: Tally, quorum: Decimal) -> bool:
    """Whether the stake that voted is at least ``quorum`` of all stake (exact: no
    rounding; with no stake at all there is no quorum)."""
    return result.total_stake > 0 and result.voted > 0 and \
        Decimal(result.voted) >= quorum * Decimal(result.total_stake)


def outcome(result: Tally, quorum: Decimal) -> str:
    """How a closed vote ends: no_quorum, passed (quorum and more yes than no) or
    rejected."""
    if not has_quorum(result, quorum):
        return "no_quorum"
    return "passed" if result.yes > result.no else "rejected"


def choice(value: object) -> str:
    if not isinstance(value, str) or value.strip().lower() not in CHOICES:
        raise InvalidInput(f"a vote is yes, no or abstain, got {str(value)[:40]!r}")
    return value.strip().lower()


def proposer_refusal(stake: int, threshold: int, agent: str) -> str | None:
    """Why ``agent`` may not propose (its stake is under the threshold), or None."""
    if stake >= threshold:
        return None
    from ..money import display_amount

    return (f"{agent} has {display_amount(stake)} staked; proposing needs at least "
            f"{display_amount(threshold)} (token-exchange stake {agent} AMOUNT)")


def hours_us(hours: Decimal) -> int:
    """Hours as whole microseconds."""
    return int(hours * HOUR_US)


__all__ = ["Path", "Tally", "allowed_parameters", "choice", "config_value", "has_quorum",
           "hours_us", "outcome", "overlay", "parse_parameter", "proposer_refusal", "tally",
           "validate_value"]
