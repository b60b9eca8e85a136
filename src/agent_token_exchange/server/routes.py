"""The API's routes under /v1: each checks the caller's key, calls one ``Exchange``
method and returns the record's JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from ..economy.records import BudgetLeft
from ..errors import (
    NotFound,
)
from ..formats.json_codec import to_json
from ..service import access
from . import schemas as s
from .auth import Caller, ExchangeDep, run_write
from .events import Cursor, event_stream, latest_cursor
from .inline_writes import run_short_write
from .routing import (
    ERRORS,
    WRITE_ERRORS,
    IdempotencyKey,
    ScopedIdempotencyKey,
    known_agent,
)


def api_router() -> APIRouter:
    api = APIRouter()

    # -- reads ------------------------------------------------------------------------

    @api.get("/whoami", response_model=s.WhoAmI, responses=ERRORS, tags=["auth"])
    def whoami(caller: Caller) -> dict[str, Any]:
        """The key's holder: an agent, or an admin."""
        return {"key_id": caller.key_id, "agent": caller.agent, "admin": caller.admin}

    @api.get("/agents", response_model=s.AgentList, responses=ERRORS, tags=["agents"])
    def agents(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Every agent: tokens, earned, spent and rate limits used (`token-exchange status`)."""
        return {"agents": [to_json(row) for row in ex.status()]}

    @api.get("/agents/{agent}", response_model=s.Wallet, responses=ERRORS, tags=["agents"])
    def balance(agent: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """An agent's wallet (`token-exchange balance`): its own key or an admin's."""
        agent = known_agent(ex, agent)
        access.require_own(caller, agent)
        return to_json(ex.balance(agent))

    @api.get("/agents/{agent}/history", response_model=s.History, responses=ERRORS,
             tags=["agents"])
    def history(agent: str, caller: Caller, ex: ExchangeDep,
                limit: Annotated[int, Query(ge=1, le=100_000)] = 20) -> dict[str, Any]:
        """An agent's transactions, newest first: its own key or an admin's."""
        agent = known_agent(ex, agent)
        access.require_own(caller, agent)
        return {"agent": agent, "transactions": [to_json(e) for e in ex.history(agent, limit)]}

    @api.get("/agents/{agent}/limits", response_model=s.Limits, responses=ERRORS,
             tags=["agents"])
    def limits(agent: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Rate-limit position: hourly and daily use, burst, reserve, headroom, refusals
        (its own key or an admin's)."""
        agent = known_agent(ex, agent)
        access.require_own(caller, agent)
        return to_json(ex.limits(agent))

    @api.get("/agents/{agent}/quote", response_model=s.Quote, responses=ERRORS,
             tags=["agents"])
    def quote(agent: str, caller: Caller, ex: ExchangeDep,
              model: Annotated[str, Query(min_length=1, max_length=200)],
              input_tokens: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
              max_output_tokens: Annotated[int | None, Query(ge=0, le=10_000_000)] = None
              ) -> dict[str, Any]:
        """What a gateway request would reserve now, whether it would pass, and the
        largest max_tokens that fits."""
        return to_json(ex.quote(known_agent(ex, agent), model, input_tokens,
                                max_output_tokens))

    @api.get("/refusals", response_model=s.RefusalList, responses=ERRORS, tags=["agents"])
    def refusals(caller: Caller, ex: ExchangeDep,
                 agent: Annotated[str | None, Query(max_length=64)] = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                 after: Annotated[int | None, Query(ge=0, le=2**62)] = None) -> dict[str, Any]:
        """Recent refusals, newest first; with ``after``, those past that seq, oldest
        first. An agent's key sees its own."""
        if agent is not None:
            agent = known_agent(ex, agent)
        agent = access.reader(caller, agent)  # filtered in the query, then paged
        if after is not None:
            rows = ex.refusals_since(after, limit, agent=agent)
        else:
            rows = ex.refusals(agent, limit)
        return {"refusals": [to_json(r) for r in rows]}

    @api.get("/transfers", response_model=s.TransferList, responses=ERRORS, tags=["events"])
    def transfers(caller: Caller, ex: ExchangeDep,
                  after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 200,
                  agent: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
        """Ledger transfers oldest first: after a seq, or the newest ``limit``; with
        ``agent``, those touching its wallet. An agent's key sees its own."""
        mine = access.reader(caller, None if agent is None else known_agent(ex, agent))
        rows = (ex.recent_transfers(limit, agent=mine) if after is None
                else ex.transfers_since(after, limit, agent=mine))
        return {"transfers": [to_json(t) for t in rows]}

    @api.get("/rewards/preview", response_model=s.RewardPreview, responses=ERRORS,
             tags=["earning"])
    def reward_preview(
        caller: Caller, ex: ExchangeDep,
        agent: Annotated[str, Query(min_length=1, max_length=64)],
        project: Annotated[str, Query(min_length=1, max_length=500)],
        message: Annotated[str, Query(min_length=1, max_length=10_000)],
    ) -> dict[str, Any]:
        """What a commit would earn now, without paying it."""
        return to_json(ex.preview_commit(known_agent(ex, agent), project, message))

    @api.get("/doctor", response_model=s.DoctorReport, responses=ERRORS, tags=["admin"])
    def doctor(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Check every ledger invariant (admin)."""
        caller.require_admin()
        return to_json(ex.doctor(fix=False))

    @api.get("/config", response_model=s.ConfigView, responses=ERRORS, tags=["admin"])
    def config(caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """The economy's rules the server runs on (admin): config.toml as JSON."""
        caller.require_admin()
        return ex.config.model_dump(mode="json")

    @api.get("/audit", response_model=s.AuditReport, responses=ERRORS, tags=["admin"])
    def audit(caller: Caller, ex: ExchangeDep,
              expect_head: Annotated[str | None, Query(max_length=64)] = None
              ) -> dict[str, Any]:
        """Recompute the transfer log's hash chain (admin)."""
        caller.require_admin()
        return to_json(ex.audit(expect_head))

    @api.get("/commits/{sha}/paid", response_model=s.CommitPaid, responses=ERRORS,
             tags=["earning"])
    def commit_paid(
        sha: str, caller: Caller, ex: ExchangeDep,
        patch_id: Annotated[str | None, Query(max_length=64)] = None,
        author_email: Annotated[str | None, Query(max_length=320)] = None,
        replaces: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        """Whether a commit's work was already settled (by SHA, amend or patch id)."""
        paid = ex.commit_paid(sha, patch_id=patch_id, author_email=author_email,
                              replaces=replaces)
        return {"sha": sha, "paid": paid}

    @api.get("/issues/{issue_id}/settled", response_model=s.IssueSettled, responses=ERRORS,
             tags=["earning"])
    def issue_settled(issue_id: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Whether a closed issue was already paid (or settled at zero)."""
        return {"issue_id": issue_id, "settled": ex.issue_settled(issue_id)}

    @api.get("/contracts/{contract}/budget", response_model=s.BudgetLeft, responses=ERRORS,
             tags=["earning"])
    def budget_left(contract: str, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """What is left of a contract's budget."""
        if contract not in {c.name for c in ex.config.contracts}:
            raise NotFound(f"unknown contract {contract[:64]!r}")
        return to_json(BudgetLeft(contract, ex.budget_left(contract)))

    @api.get("/events", responses={**ERRORS, 200: {
        "content": {"text/event-stream": {}},
        "description": "Server-sent events: `transfer` and `refusal`, data = their JSON"}},
        response_class=StreamingResponse, tags=["events"])
    def events(
        request: Request, caller: Caller, ex: ExchangeDep,
        after: Annotated[str | None, Query(
            max_length=41, description="Resume after this event id (transfer.refusal)")] = None,
        max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID",
                                                    max_length=41)] = None,
    ) -> StreamingResponse:
        """Every transfer and refusal as it happens (an agent's key: its own)."""
        start = after or last_event_id
        cursor = Cursor.parse(start) if start else latest_cursor(ex)
        stream = event_stream(request.app.state.exchanges, caller, cursor,
                              max_events=max_events)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    # -- writes -------------------------------------------------------------------------

    @api.post("/agents/{agent}/llm", response_model=s.Charge, responses=WRITE_ERRORS,
              tags=["spending"])
    async def llm(request: Request, agent: str, body: s.LlmRequest, caller: Caller, ex: ExchangeDep,
            idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Spend on one LLM request under the burst, reserve, hourly and daily limits."""

        def run() -> dict[str, Any]:
            nonlocal agent
            agent = known_agent(ex, agent)
            caller.require_agent(agent)
            return to_json(ex.llm(agent, body.task_type, body.token_count, body.model,
                          idempotency_key=idempotency_key))

        return await run_short_write(request.app.state.exchanges.local, run)

    @api.post("/commits", response_model=s.Payment, responses=WRITE_ERRORS, tags=["earning"])
    async def commit(request: Request, body: s.CommitRequest, caller: Caller, ex: ExchangeDep,
               idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Pay a git commit (admin): base rate × project multiplier × message bonus."""

        def run() -> dict[str, Any]:
            caller.require_admin()
            return to_json(ex.commit(body.author_email, body.project, body.message, body.sha,
                             idempotency_key=idempotency_key, patch_id=body.patch_id,
                             replaces=body.replaces))

        return await run_write(request, run)

    @api.post("/awards", response_model=s.Payment, responses=WRITE_ERRORS, tags=["earning"])
    async def award(request: Request, body: s.AwardRequest, caller: Caller, ex: ExchangeDep,
              idempotency_key: ScopedIdempotencyKey) -> dict[str, Any]:
        """Award tokens to an agent directly (admin)."""

        def run() -> dict[str, Any]:
            caller.require_admin()
            return to_json(ex.award(body.agent, body.amount, body.source, body.description,
                            idempotency_key=idempotency_key))

        return await run_write(request, run)

    @api.post("/issues", response_model=s.Payment, responses=WRITE_ERRORS, tags=["earning"])
    async def pay_issue(request: Request, body: s.IssueRequest, caller: Caller, ex: ExchangeDep,
                  idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
        """Pay for a closed issue (admin). The issue id is the idempotency key: an issue
        pays once however often it is sent, so an Idempotency-Key header adds nothing."""

        def run() -> dict[str, Any]:
            caller.require_admin()
            return to_json(ex.pay_issue(
                body.issue_id, body.agent, priority=body.priority, issue_type=body.issue_type,
                labels=tuple(body.labels), close_reason=body.close_reason,
                tombstoned=body.tombstoned, title=body.title,
            ))

        return await run_write(request, run)

    @api.post("/doctor", response_model=s.DoctorReport, responses=WRITE_ERRORS,
              tags=["admin"])
    async def doctor_fix(request: Request,
        body: s.DoctorRequest, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Check every invariant; with ``fix`` rebuild derived figures (admin)."""

        def run() -> dict[str, Any]:
            caller.require_admin()
            return to_json(ex.doctor(fix=body.fix))



        return await run_write(request, run)

    return api

