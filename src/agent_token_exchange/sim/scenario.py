"""What a simulation runs: the agents' habits, the time-of-day profile, the pools, and
the exchange config they run under. Parsed from TOML and validated like config.py.

The default scenario (``default_scenario.toml`` beside this file) is the seed's
24-hour experiment; a user's scenario file is merged over it, so it only names what
it changes. ``[config]`` is merged over the exchange's default config the same way.
"""

from __future__ import annotations

import copy
import math
import tomllib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..clock import MICROS_PER_SECOND
from ..economy.config import Config, config_error, default_config_text
from ..errors import ConfigError, InvalidInput
from ..files import read_text_file
from .credit import CreditPlan

Weight = Annotated[float, Field(ge=0, le=1_000_000)]
Rate = Annotated[float, Field(ge=0, le=100_000)]
MAX_HOURS = 24 * 366
MAX_SCENARIO_BYTES = 1024**2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Block(_Strict):
    """A time-of-day block: how busy each kind of work is per hour, relatively."""

    name: str
    first_hour: int = Field(ge=0, le=23)
    last_hour: int = Field(ge=0, le=23)
    commits: Weight = 1.0
    issues: Weight = 1.0
    requests: Weight = 1.0
    token_scale: Annotated[float, Field(gt=0, le=1000)] = 1.0

    @property
    def label(self) -> str:
        return f"{self.first_hour:02d}-{self.last_hour:02d}"


class MessageClass(_Strict):
    weight: Weight
    texts: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(min_length=1)


class IssueMix(_Strict):
    priorities: dict[str, Weight] = {"P2": 1.0}
    types: dict[str, Weight] = {"task": 1.0}
    failure_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    failure_reasons: list[str] = ["duplicate"]

    @field_validator("priorities")
    @classmethod
    def _priorities_named_p_n(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            if len(key) != 2 or key[0] != "P" or not key[1].isdigit():
                raise ValueError(f"priority {key!r} should be named like P1")
        return value


class Task(_Strict):
    weight: Weight
    tokens: Annotated[int, Field(gt=0, le=100_000_000)]


class AgentPlan(_Strict):
    """One agent's habits: how much it works and how it buys inference."""

    strategy: str = ""
    commits_per_day: Rate = 0
    issues_per_day: Rate = 0
    requests_per_day: Rate = 0
    projects: dict[str, Weight] = {"agent-token-exchange": 1.0}
    tasks: dict[str, Task] = {"coding": Task(weight=1, tokens=5000)}
    token_spread: Annotated[float, Field(ge=0, le=5)] = 0.5
    on_burst: Literal["shrink", "skip"] = "skip"
    follow_up: Annotated[float, Field(ge=0, le=0.95)] = 0.0
    follow_up_minutes: Annotated[int, Field(ge=1, le=600)] = 5


class PoolRequest(_Strict):
    model: str
    tokens: Annotated[int, Field(gt=0, le=100_000_000)]
    description: str = "pooled work"


class PoolPlan(_Strict):
    name: str
    creator: str
    members: list[str] = []
    hour: int = Field(ge=0)
    min_contribution: Annotated[Decimal, Field(gt=0)] = Decimal(1)
    contributions: dict[str, Annotated[Decimal, Field(gt=0)]] = {}
    every_minutes: int = Field(default=15, ge=1, le=600)
    dissolve: bool = True
    requests: list[PoolRequest] = []


class Population(_Strict):
    agents: int = Field(default=0, ge=0, le=100_000)


class Scenario(_Strict):
    name: str = "scenario"
    description: str = ""
    hours: int = Field(default=24, ge=1, le=MAX_HOURS)
    start: str = "2026-01-01T00:00:00Z"
    config: dict[str, Any] = {}
    blocks: list[Block]
    messages: list[MessageClass] = Field(min_length=1)
    issues: IssueMix = IssueMix()
    agents: dict[str, AgentPlan]
    pools: list[PoolPlan] = []
    population: Population = Population()
    credit: CreditPlan | None = None

    @field_validator("start")
    @classmethod
    def _start_is_utc(cls, value: str) -> str:
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise ValueError("should look like 2026-01-01T00:00:00Z") from None
        return value

    @field_validator("blocks")
    @classmethod
    def _blocks_cover_the_day(cls, blocks: list[Block]) -> list[Block]:
        covered: list[int] = []
        for block in blocks:
            if block.last_hour < block.first_hour:
                raise ValueError(f"block {block.name!r}: last_hour is before first_hour")
            covered += range(block.first_hour, block.last_hour + 1)
        if sorted(covered) != list(range(24)):
            raise ValueError("blocks must cover hours 0-23 once each")
        return blocks

    # -- derived views ------------------------------------------------------------------

    @property
    def start_us(self) -> int:
        moment = datetime.strptime(self.start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return int(moment.timestamp()) * MICROS_PER_SECOND

    def block_for(self, hour_of_day: int) -> Block:
        return next(b for b in self.blocks if b.first_hour <= hour_of_day <= b.last_hour)

    def hourly_shares(self, what: str) -> list[float]:
        """For each hour of the day, its share of a daily rate (they sum to 1)."""
        weights = [getattr(self.block_for(h), what) for h in range(24)]
        total = sum(weights)
        return [w / total if total else 0.0 for w in weights]


# -- loading ------------------------------------------------------------------------------


def default_scenario_text() -> str:
    return resources.files(__package__).joinpath("default_scenario.toml").read_text("utf-8")


# Scenarios shipped with the package, by the name ``--scenario`` takes.
SHIPPED_SCENARIOS = {"credit": "credit_scenario.toml"}


def shipped_scenario_text(name: str) -> str:
    return resources.files(__package__).joinpath(SHIPPED_SCENARIOS[name]).read_text("utf-8")


def _default_data() -> dict[str, Any]:
    return tomllib.loads(default_scenario_text(), parse_float=Decimal)


def load_scenario(path: Path | None = None, base: dict[str, Any] | None = None) -> Scenario:
    """The default scenario, with the file at ``path`` (if any) merged over it. ``base``
    is the exchange config it runs under (default: the built-in seed rules)."""
    data = _default_data()
    source = "default scenario"
    if path is not None:
        source = str(path)
        if str(path) in SHIPPED_SCENARIOS and not path.exists():
            text = shipped_scenario_text(str(path))
        else:
            text = read_text_file(path, MAX_SCENARIO_BYTES, "a scenario file")
        try:
            override = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        data = merge(data, override)
    return validate_scenario(data, source, base)


def validate_scenario(data: dict[str, Any], source: str = "scenario",
                      base: dict[str, Any] | None = None) -> Scenario:
    try:
        scenario = Scenario.model_validate(_floats_for_rates(data))
    except ValidationError as exc:
        raise config_error(exc, source) from None
    config = build_config(scenario, base=base)  # the config must validate too
    _check_references(scenario, config, source)
    return scenario


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (numbers, strings, lists) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _floats_for_rates(data: dict[str, Any]) -> dict[str, Any]:
    """Rates and weights are statistics, not money: TOML decimals become floats there.
    Money (config, pool amounts) stays Decimal."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    out = dict(data)
    for key in ("blocks", "messages", "issues", "agents"):
        if key in out:
            out[key] = convert(out[key])
    return out


# -- the exchange config a scenario runs under ---------------------------------------------


def base_config_data() -> dict[str, Any]:
    return tomllib.loads(default_config_text(), parse_float=Decimal)


def build_config(scenario: Scenario, overrides: dict[str, Any] | None = None,
                 base: dict[str, Any] | None = None) -> Config:
    """``base`` (default: the built-in config), with the scenario's [config] and then
    ``overrides`` merged over it, and the population's cloned agents added."""
    data = merge(base if base is not None else base_config_data(), scenario.config)
    if overrides:
        data = merge(data, overrides)
    if scenario.population.agents:
        data = _with_population(data, scenario)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        error = config_error(exc, "scenario config")
        raise ConfigError(error.message) from None


def team_names(scenario: Scenario) -> list[list[str]]:
    """Agent names in teams. Without a population: one team, the scenario's agents."""
    templates = list(scenario.agents)
    wanted = scenario.population.agents
    if not wanted:
        return [templates]
    teams = []
    for number in range(1, math.ceil(wanted / len(templates)) + 1):
        left = wanted - len(templates) * (number - 1)
        teams.append([f"{name}-{number}" for name in templates[:left]])
    return teams


def template_of(scenario: Scenario, agent: str) -> str:
    """The scenario agent a (possibly cloned) agent follows."""
    if agent in scenario.agents:
        return agent
    return agent.rsplit("-", 1)[0]


def _with_population(data: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    teams = team_names(scenario)
    agents = {}
    for team in teams:
        for name in team:
            template = template_of(scenario, name)
            if template not in data["agents"]:
                continue  # reported by _check_references
            spec = copy.deepcopy(data["agents"][template])
            spec["emails"], spec["aliases"] = [], []
            agents[name] = spec
    data["agents"] = agents
    # Budgets grow with the teams, so a big population earns what a small one does.
    for contract in data.get("contracts", []):
        contract["budget"] = Decimal(str(contract["budget"])) * len(teams)
    return data


def _check_references(scenario: Scenario, config: Config, source: str) -> None:
    template_agents = set(base_or_population_templates(scenario, config))
    for name in scenario.agents:
        if name not in template_agents:
            raise ConfigError(
                f"{source}: agents.{name}: no such agent in the exchange config "
                f"(add it under [config.agents.{name}])"
            )
    for name, plan in scenario.agents.items():
        if not plan.projects or sum(plan.projects.values()) <= 0:
            raise ConfigError(f"{source}: agents.{name}.projects: give at least one project")
        if plan.requests_per_day and (not plan.tasks or not sum(
                t.weight for t in plan.tasks.values())):
            raise ConfigError(f"{source}: agents.{name}.tasks: give at least one task type")
    for index, pool in enumerate(scenario.pools):
        where = f"{source}: pools.{index}"
        for agent in [pool.creator, *pool.members, *pool.contributions]:
            if agent not in scenario.agents:
                raise ConfigError(f"{where}: {agent!r} is not an agent of the scenario")
        for request in pool.requests:
            if request.model not in config.models:
                raise ConfigError(f"{where}: unknown model {request.model!r}")
    if scenario.credit is not None:
        for agent in sorted(scenario.credit.agents()):
            if agent not in scenario.agents:
                raise ConfigError(f"{source}: credit: {agent!r} is not an agent of the scenario")
    for key in scenario.issues.priorities:
        rewards = config.issues.priority_rewards
        if key not in rewards and not (key == "P0" and f"P{config.issues.p0_pays_as}" in rewards):
            raise ConfigError(f"{source}: issues.priorities: {key} has no reward in the config")


def base_or_population_templates(scenario: Scenario, config: Config) -> list[str]:
    if not scenario.population.agents:
        return list(config.agents)
    return [template_of(scenario, name) for name in config.agents]


# -- --sweep KEY=V1,V2 ---------------------------------------------------------------------


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """``rate_limits.hourly=500,1000`` -> ("rate_limits.hourly", [500, 1000])."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise InvalidInput(
            f"--sweep must look like KEY=V1,V2 (e.g. rate_limits.hourly=500,1000), got {text!r}"
        )
    parts = [v.strip() for v in values.split(",")]
    if any(not part for part in parts):
        raise InvalidInput(f"--sweep {key}: a value is empty in {values!r}")
    if len(parts) > 50:
        raise InvalidInput("--sweep takes at most 50 values")
    return key, [_typed(part) for part in parts]


def _typed(text: str) -> Any:
    if text.lower() in {"true", "false"}:
        return text.lower() == "true"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral_value() and "." not in text else value


def dotted_override(key: str, value: Any) -> dict[str, Any]:
    """``rate_limits.hourly``, 500 -> {"rate_limits": {"hourly": 500}}."""
    parts = key.split(".")
    if any(not p for p in parts):
        raise InvalidInput(f"--sweep key {key!r} is not a dotted config path")
    out: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        out = {part: out}
    return out


def check_sweep_key(key: str, base: dict[str, Any] | None = None) -> None:
    """A sweep may only set a key the config has (typos fail before running)."""
    node: Any = base if base is not None else base_config_data()
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise InvalidInput(
                f"--sweep: {key!r} is not a config key (e.g. rate_limits.hourly, "
                "models.claude-opus.cost_per_1k, agents.claude.base_rate)"
            )
    if isinstance(node, dict | list):
        raise InvalidInput(f"--sweep: {key!r} is a table; name one value in it")
