"""Spending: an agent's own LLM requests, under its burst, reserve, hourly and daily
limits, checked and written in one transaction."""

from __future__ import annotations

from ..clock import DAY_US, HOUR_US
from ..economy import rules
from ..economy.accounts import INFERENCE, Kind, wallet
from ..economy.records import Charge
from ..economy.validation import TASK_TYPE, model_name
from ..errors import InvalidInput
from ..money import parse_count, tokens
from .operations import Core, client_key, raise_if_refused


class Spending:
    """Charges inference to an agent's wallet and records it in its windows."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def llm(
        self, agent: str, task_type: str, token_count: int | str, model: str | None = None,
        *, idempotency_key: str | None = None,
    ) -> Charge:
        """Spend on one LLM request, under the burst, reserve, hourly and daily limits."""
        core, store = self._core, self._core.store
        agent = core.agent(agent)
        if not isinstance(task_type, str) or not TASK_TYPE.match(task_type):
            raise InvalidInput(
                f"task type must be a short lowercase word like coding, got {str(task_type)[:40]!r}"
            )
        count = parse_count(token_count)
        note = "" if model is not None else rules.model_note(core.config, agent, task_type)
        model = (model_name(model) if model is not None
                 else rules.preferred_llm(core.config, agent, task_type))
        cost = rules.llm_cost(core.config, model, count)
        key = client_key(idempotency_key)
        request = {"agent": agent, "task_type": task_type, "count": count, "model": model}
        account = wallet(agent)

        def spend(now: int) -> Charge:
            if cost == 0:
                return Charge(agent, task_type, model, count, tokens(0),
                              tokens(core.tokens(agent)), None, note)
            # The balance and both windows in one read (the spend is the hot path).
            balance, last_at, cumulative, hour_base, day_base = store.windows.position(
                agent, account, now - HOUR_US, now - DAY_US)
            at = now
            if last_at > now:  # the clock stepped back: windows move forward per agent
                at = last_at
                hourly, daily = core.window_usage(agent, at, latest=(last_at, cumulative))
            else:
                hourly, daily = cumulative - hour_base, cumulative - day_base
            raise_if_refused(rules.check_consumption(
                core.config.limits_for(agent), amount=cost, balance=balance,
                hourly_used=hourly, daily_used=daily,
            ))
            seq = store.transfers.post(
                at=at, kind=Kind.INFERENCE, source=account, destination=INFERENCE,
                amount=cost, description=f"{model} for {task_type}", model=model,
                inference_tokens=count, idempotency_key=key,
            )
            store.windows.record(agent, at, cost, cumulative + cost, seq)
            # The wallet is locked for the whole operation: what it holds now is exact.
            return Charge(agent, task_type, model, count, tokens(cost), tokens(balance - cost),
                          seq, note)

        return core.operate("llm", request, key, spend, Charge, agent=agent, amount=cost,
                            accounts=[account])
