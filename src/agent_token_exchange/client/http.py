"""A Python client for a remote exchange, with the same methods as ``Exchange``: each
returns the same record, and each refusal raises the same exception.

    with ExchangeClient("http://127.0.0.1:8787", key="atx_…") as ex:
        ex.llm("zero", "coding", 5000)
        ex.balance("zero").tokens
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

import httpx

from ..economy.config import Config
from ..economy.records import (
    AgentStatus,
    AuditReport,
    BudgetLeft,
    Charge,
    DoctorReport,
    HistoryEntry,
    LedgerTransfer,
    Limits,
    Payment,
    PoolContribution,
    PoolDissolution,
    PoolLeave,
    PoolSpend,
    PoolView,
    Quote,
    RefusalEvent,
    RewardPreview,
    Wallet,
)
from ..errors import ExchangeError, InvalidInput, Unreachable, error_class
from ..formats.json_codec import from_json
from .futures import FutureClient
from .governance import GovernanceClient
from .loans import LoanClient
from .settle import SettleClient

if TYPE_CHECKING:
    from ..ledger import LedgerImage


class ExchangeClient(FutureClient, LoanClient, SettleClient, GovernanceClient):
    """The exchange at ``url``, acting with ``key`` (an agent's or an admin's)."""

    def __init__(
        self, url: str, key: str | None = None, *, timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # "localhost:8787" is what people type: a URL without a scheme is plain HTTP.
        self.url = (url if "://" in url else f"http://{url}").rstrip("/")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._config: Config | None = None
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout,
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ----------------------------------------------------------------------------

    def agents(self) -> list[str]:
        return [row.agent for row in self.status()]

    def status(self) -> list[AgentStatus]:
        return [from_json(AgentStatus, a) for a in self._get("/v1/agents")["agents"]]

    def balance(self, agent: str) -> Wallet:
        return from_json(Wallet, self._get(f"/v1/agents/{_part(agent)}"))

    def history(self, agent: str, limit: int = 20) -> list[HistoryEntry]:
        data = self._get(f"/v1/agents/{_part(agent)}/history", limit=limit)
        return [from_json(HistoryEntry, e) for e in data["transactions"]]

    def limits(self, agent: str) -> Limits:
        return from_json(Limits, self._get(f"/v1/agents/{_part(agent)}/limits"))

    def refusals(self, agent: str | None = None, limit: int = 100) -> list[RefusalEvent]:
        data = self._get("/v1/refusals", agent=agent, limit=limit)
        return [from_json(RefusalEvent, r) for r in data["refusals"]]

    def refusals_since(self, after_seq: int = 0, limit: int = 500, *,
                       agent: str | None = None) -> list[RefusalEvent]:
        data = self._get("/v1/refusals", after=after_seq, limit=limit, agent=agent)
        return [from_json(RefusalEvent, r) for r in data["refusals"]]

    def pool_show(self, pool_id: str, *, agent: str | None = None) -> PoolView:
        return from_json(PoolView, self._get(f"/v1/pools/{_part(pool_id)}", agent=agent))

    def pool_list(self, *, agent: str | None = None) -> list[PoolView]:
        return [from_json(PoolView, p) for p in self._get("/v1/pools", agent=agent)["pools"]]

    def preview_commit(self, agent: str, project: str, message: str) -> RewardPreview:
        return from_json(RewardPreview, self._get(
            "/v1/rewards/preview", agent=agent, project=project, message=message))

    def transfers_since(self, after_seq: int = 0, limit: int = 500, *,
                        agent: str | None = None) -> list[LedgerTransfer]:
        data = self._get("/v1/transfers", after=after_seq, limit=limit, agent=agent)
        return [from_json(LedgerTransfer, t) for t in data["transfers"]]

    def recent_transfers(self, limit: int = 200, *,
                         agent: str | None = None) -> list[LedgerTransfer]:
        data = self._get("/v1/transfers", limit=limit, agent=agent)
        return [from_json(LedgerTransfer, t) for t in data["transfers"]]

    @property
    def config(self) -> Config:
        """The rules the server runs on (an admin key), fetched once."""
        if self._config is None:
            self._config = Config.model_validate(self._get("/v1/config"))
        return self._config

    def audit(self, expect_head: str | None = None) -> AuditReport:
        return from_json(AuditReport, self._get("/v1/audit", expect_head=expect_head))

    def export_image(self, *, since: int | None = None,
                     agent: str | None = None) -> LedgerImage:
        raise InvalidInput("export reads the whole database: run it on the exchange's "
                           "machine (drop --server)")

    def doctor(self, fix: bool = False) -> DoctorReport:
        data = self._post("/v1/doctor", {"fix": fix}) if fix else self._get("/v1/doctor")
        return from_json(DoctorReport, data)

    # -- earning --------------------------------------------------------------------------

    def commit(
        self, author_email: str, project: str, message: str, sha: str | None = None,
        *, idempotency_key: str | None = None, patch_id: str | None = None,
        replaces: str | None = None,
    ) -> Payment:
        body = {"author_email": author_email, "project": project, "message": message,
                "sha": sha, "patch_id": patch_id, "replaces": replaces}
        return from_json(Payment, self._post("/v1/commits", body, idempotency_key))

    def commit_paid(self, sha: str, *, patch_id: str | None = None,
                    author_email: str | None = None, replaces: str | None = None) -> bool:
        return bool(self._get(f"/v1/commits/{_part(sha)}/paid", patch_id=patch_id,
                              author_email=author_email, replaces=replaces)["paid"])

    def issue_settled(self, issue_id: str) -> bool:
        return bool(self._get(f"/v1/issues/{_part(issue_id)}/settled")["settled"])

    def budget_left(self, contract: str) -> Decimal:
        data = self._get(f"/v1/contracts/{_part(contract)}/budget")
        return from_json(BudgetLeft, data).budget_left

    def award(
        self, agent: str, amount: Decimal | str | int, source: str, description: str,
        *, idempotency_key: str | None = None,
    ) -> Payment:
        body = {"agent": agent, "amount": _amount(amount), "source": source,
                "description": description}
        return from_json(Payment, self._post("/v1/awards", body, idempotency_key))

    def pay_issue(
        self, issue_id: str, agent: str, *, priority: int | None, issue_type: str | None,
        labels: tuple[str, ...] = (), close_reason: str | None = None,
        tombstoned: bool = False, title: str = "",
    ) -> Payment:
        body = {"issue_id": issue_id, "agent": agent, "priority": priority,
                "issue_type": issue_type, "labels": list(labels),
                "close_reason": close_reason, "tombstoned": tombstoned, "title": title}
        return from_json(Payment, self._post("/v1/issues", body))

    # -- spending -------------------------------------------------------------------------

    def llm(
        self, agent: str, task_type: str, token_count: int | str, model: str | None = None,
        *, idempotency_key: str | None = None,
    ) -> Charge:
        body = {"task_type": task_type, "token_count": token_count, "model": model}
        return from_json(Charge,
            self._post(f"/v1/agents/{_part(agent)}/llm", body, idempotency_key))

    def quote(self, agent: str, model: str, input_tokens: int = 0,
              max_output_tokens: int | None = None) -> Quote:
        return from_json(Quote, self._get(
            f"/v1/agents/{_part(agent)}/quote", model=model, input_tokens=input_tokens,
            max_output_tokens=max_output_tokens))

    # -- pools ----------------------------------------------------------------------------

    def pool_create(
        self, name: str, creator: str, min_contribution: Decimal | str | int,
        *, open: bool = False, idempotency_key: str | None = None,
    ) -> PoolView:
        body = {"name": name, "creator": creator, "min_contribution": _amount(min_contribution),
                "open": open}
        return from_json(PoolView, self._post("/v1/pools", body, idempotency_key))

    def pool_invite(
        self, pool_id: str, agent: str, *, by: str | None = None,
        idempotency_key: str | None = None,
    ) -> PoolView:
        return from_json(PoolView, self._post(
            f"/v1/pools/{_part(pool_id)}/invite", {"agent": agent, "by": by}, idempotency_key))

    def pool_join(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolView:
        return from_json(PoolView, self._post(
            f"/v1/pools/{_part(pool_id)}/join", {"agent": agent}, idempotency_key))

    def pool_leave(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolLeave:
        return from_json(PoolLeave, self._post(
            f"/v1/pools/{_part(pool_id)}/leave", {"agent": agent}, idempotency_key))

    def pool_contribute(
        self, pool_id: str, agent: str, amount: Decimal | str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolContribution:
        return from_json(PoolContribution, self._post(
            f"/v1/pools/{_part(pool_id)}/contribute",
            {"agent": agent, "amount": _amount(amount)}, idempotency_key))

    def pool_spend(
        self, pool_id: str, model: str, token_count: int | str, description: str,
        *, agent: str | None = None, idempotency_key: str | None = None,
    ) -> PoolSpend:
        body = {"model": model, "token_count": token_count, "description": description,
                "agent": agent}
        return from_json(PoolSpend,
            self._post(f"/v1/pools/{_part(pool_id)}/spend", body, idempotency_key))

    def pool_dissolve(
        self, pool_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> PoolDissolution:
        path = f"/v1/pools/{_part(pool_id)}/dissolve"
        if agent is not None:
            path += f"?agent={_part(agent)}"
        return from_json(PoolDissolution, self._post(path, None, idempotency_key))

    # -- transport ------------------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path, params=query)

    def _post(
        self, path: str, body: dict[str, Any] | None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
        payload = {k: v for k, v in body.items() if v is not None} if body else None
        return self._send("POST", path, json=payload, headers=headers)

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot reach the exchange at {self.url}: {exc}") from None
        try:
            data = response.json()
        except ValueError:
            raise Unreachable(
                f"{self.url} answered {response.status_code} without JSON; is it an exchange?"
            ) from None
        if response.is_success and isinstance(data, dict):
            return data
        if response.is_success:
            raise Unreachable(f"{self.url} answered {response.status_code} with JSON that is "
                              "not an object; is it an exchange?")
        raise error_from_response(response.status_code, data)


def error_from_response(status: int, data: Any) -> ExchangeError:
    """The exception the library would have raised, rebuilt by its code from the error
    registry (a code this version does not know: the class its status stands for)."""
    detail = data.get("error") if isinstance(data, dict) else None
    if not isinstance(detail, dict):
        return Unreachable(f"the server answered {status} with an unexpected body")
    code, message = str(detail.get("code", "error")), str(detail.get("message", ""))
    cls = error_class(code, status)
    try:
        return cls.from_dict({**detail, "code": code, "message": message})
    except (KeyError, TypeError, ArithmeticError):  # a leaf without its fields
        return ExchangeError(message, code=code)


def _part(text: str) -> str:
    return quote(str(text), safe="")


def _amount(value: Decimal | str | int) -> str:
    # The API takes amounts as decimal strings of tokens, as Exchange takes them.
    return format(value, "f") if isinstance(value, Decimal) else str(value)


__all__ = ["ExchangeClient", "Unreachable", "error_from_response"]
