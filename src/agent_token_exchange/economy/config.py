"""The economy's rules as typed, validated data.

The defaults are the seed's tables and live in ``default_config.toml`` beside this file:
that text is what ``init`` writes (comments and all) and what ``Config.default()`` parses,
so the two can never drift apart.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError
from ..files import read_text_file
from ..money import MAX_TOKENS
from . import config_cache
from .limits import ConfigViews, ResolvedLimits  # noqa: F401 - ResolvedLimits: re-exported
from .patterns import linear_pattern
from .validation import NAME_PATTERN

MAX_CONFIG_BYTES = 1024**2
AgentName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Tokens = Annotated[Decimal, Field(ge=0, le=MAX_TOKENS, decimal_places=6)]
PositiveTokens = Annotated[Decimal, Field(gt=0, le=MAX_TOKENS, decimal_places=6)]
Multiplier = Annotated[Decimal, Field(ge=0, le=1000, decimal_places=6)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimits(_Strict):
    hourly: PositiveTokens
    daily: PositiveTokens
    burst: PositiveTokens
    reserve: Tokens


class RateLimitOverride(_Strict):
    hourly: PositiveTokens | None = None
    daily: PositiveTokens | None = None
    burst: PositiveTokens | None = None
    reserve: Tokens | None = None


class Pools(_Strict):
    min_members: int = Field(default=2, ge=1, le=1000)


EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")]


class Upstream(_Strict):
    """A provider the gateway forwards to (``[upstreams.NAME]``). The key is read from the
    environment variable ``api_key_env`` when a request is forwarded, never stored."""

    protocol: Literal["openai", "anthropic"]
    base_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=500)]
    api_key_env: EnvName | None = None
    # How the gateway estimates a prompt's tokens before the provider counts them:
    # tiktoken (the cl100k_base encoding, bundled offline), chars (a character count
    # over three) or bytes (UTF-8 bytes: an upper bound for byte-level tokenizers).
    # Unset: tiktoken for OpenAI's protocol (its tokenizer), bytes elsewhere: the only one
    # that never reserves less than a provider counts (bench-gateway's overrun table:
    # chars under-reserved 6 requests in 10 with CJK, emoji or code in the prompt).
    estimator: Literal["tiktoken", "chars", "bytes"] | None = None
    timeout_seconds: Annotated[Decimal, Field(gt=0, le=3600)] = Decimal(600)

    @property
    def token_estimator(self) -> str:
        return self.estimator or ("tiktoken" if self.protocol == "openai" else "bytes")


class Gateway(_Strict):
    """``[gateway]``: how long a reservation may stay open before ``settle`` closes it at
    the reserved amount (a crash between the provider's answer and the capture)."""

    stale_reservation_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)


class Model(_Strict):
    # Per 1,000 tokens, input and output alike; input_cost_per_1k and output_cost_per_1k
    # replace it where the two differ (then ``llm``'s single count is priced as output).
    cost_per_1k: Tokens
    input_cost_per_1k: Tokens | None = None
    output_cost_per_1k: Tokens | None = None
    upstream: str | None = None  # an [upstreams.NAME] the gateway forwards this model to
    upstream_model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    max_output_tokens: int = Field(default=4096, ge=1, le=10_000_000)

    @model_validator(mode="before")
    @classmethod
    def _split_prices_replace_the_flat_one(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        split = [data.get("input_cost_per_1k"), data.get("output_cost_per_1k")]
        if (split[0] is None) != (split[1] is None):
            raise ValueError("input_cost_per_1k and output_cost_per_1k go together: "
                             "give both, or cost_per_1k alone")
        if "cost_per_1k" not in data and split[1] is not None:
            return {**data, "cost_per_1k": split[1]}
        return data

    @property
    def input_price(self) -> Decimal:
        return self.cost_per_1k if self.input_cost_per_1k is None else self.input_cost_per_1k

    @property
    def output_price(self) -> Decimal:
        return self.cost_per_1k if self.output_cost_per_1k is None else self.output_cost_per_1k


class Agent(_Strict):
    level: int = Field(ge=0, le=100)
    base_rate: Tokens
    primary_llm: str
    emails: list[str] = []
    aliases: list[str] = []
    preferred_llms: dict[str, str] = {}
    rate_limits: RateLimitOverride | None = None

    @field_validator("emails")
    @classmethod
    def _emails_look_like_emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if "@" not in email:
                raise ValueError(f"{email!r} is not an email address")
        return [email.lower() for email in emails]


class Contract(_Strict):
    name: AgentName
    pattern: str
    multiplier: Multiplier
    budget: Tokens

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        linear_pattern(pattern)  # raises ValueError with RE2's reason
        return pattern


class CommitBonus(_Strict):
    name: str
    keywords: list[Annotated[str, StringConstraints(min_length=1)]]
    multiplier: Multiplier


class Issues(_Strict):
    p0_pays_as: int = Field(default=1, ge=1)
    no_reward_types: list[str] = []
    failure_reasons: list[str] = []
    priority_rewards: dict[str, Tokens]
    type_multipliers: dict[str, Multiplier]

    @field_validator("priority_rewards")
    @classmethod
    def _priorities_named_p_n(cls, rewards: dict[str, Decimal]) -> dict[str, Decimal]:
        for key in rewards:
            if not re.fullmatch(r"P[0-9]", key):
                raise ValueError(f"priority {key!r} should be named like P1")
        return rewards

    @model_validator(mode="after")
    def _p0_target_exists(self) -> Issues:
        if f"P{self.p0_pays_as}" not in self.priority_rewards:
            raise ValueError(f"p0_pays_as = {self.p0_pays_as} but there is no P{self.p0_pays_as}")
        return self


class Git(_Strict):
    pay_merge_commits: bool = False


Hours = Annotated[Decimal, Field(ge=0, le=87_600, decimal_places=6)]


class Governance(_Strict):
    """Staking and governance (service/governance.py): who may propose, how long a vote
    runs, the share of all stake that must vote, the wait before a passed proposal takes
    effect, and the wait before unstaked tokens come back."""

    proposal_threshold: Tokens = Decimal(100)
    voting_hours: Annotated[Decimal, Field(gt=0, le=87_600, decimal_places=6)] = Decimal(24)
    quorum: Annotated[Decimal, Field(ge=0, le=1, decimal_places=6)] = Decimal("0.2")
    timelock_hours: Hours = Decimal(1)
    unbonding_hours: Hours = Decimal(24)


class Config(_Strict, ConfigViews):
    start_balance: Tokens
    rate_limits: RateLimits
    pools: Pools = Pools()
    upstreams: dict[str, Upstream] = {}
    gateway: Gateway = Gateway()
    models: dict[str, Model]
    agents: dict[AgentName, Agent]
    contracts: list[Contract]
    commit_bonuses: list[CommitBonus] = []
    issues: Issues
    git: Git = Git()
    governance: Governance = Governance()

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        for name, agent in self.agents.items():
            for task, model in {"primary_llm": agent.primary_llm, **agent.preferred_llms}.items():
                if model not in self.models:
                    where = "primary_llm" if task == "primary_llm" else f"preferred_llms.{task}"
                    raise ValueError(f"agents.{name}.{where}: unknown model {model!r}")
        for name, model in self.models.items():
            if model.upstream is not None and model.upstream not in self.upstreams:
                known = ", ".join(sorted(self.upstreams)) or "none configured"
                raise ValueError(f"models.{name}.upstream: unknown upstream "
                                 f"{model.upstream!r} (upstreams: {known})")
        names = [c.name for c in self.contracts]
        if len(set(names)) != len(names):
            raise ValueError("contracts: two contracts share a name")
        if "default" not in names:
            raise ValueError("contracts: a contract named 'default' is required as the fallback")
        if not self.agents:
            raise ValueError("agents: at least one agent is required")
        return self

    # limits_for (ConfigViews, economy/limits.py): rate limits resolved once, in micro-tokens

    @classmethod
    def default(cls) -> Config:
        return parse_config_text(default_config_text(), source="default config")


def default_config_text() -> str:
    """The commented TOML that ``init`` writes: the seed's tables."""
    return resources.files(__package__).joinpath("default_config.toml").read_text("utf-8")


def parse_config_text(text: str, *, source: str = "config.toml") -> Config:
    """Parse and validate config TOML; any problem is one ConfigError naming the key."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, source) from None


def config_error(exc: ValidationError, source: str) -> ConfigError:
    """One line for a validation failure: the source, the key, and what is wrong with it."""
    first = exc.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    key = ".".join(str(part) for part in first["loc"])
    if not key:  # a whole-config check: its message names the key itself
        return ConfigError(f"{source}: {reason}")
    if first["type"] == "extra_forbidden":
        reason = "unknown key (check the spelling)"
    elif first["type"] == "missing":
        reason = "required key is missing"
    return ConfigError(f"{source}: {key}: {reason}")


def load_config(path: Path) -> Config:
    """Read and validate a config file, then keep the validated values beside it for the
    processes that read it without pydantic (economy/config_cache.py)."""
    text = read_text_file(path, MAX_CONFIG_BYTES, "a config file", error=ConfigError,
                          hint="run `token-exchange init`")
    config = parse_config_text(text, source=str(path))
    config_cache.remember(path, text.encode("utf-8"), config)
    return config
