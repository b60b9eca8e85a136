"""The dashboard's credit market panel in a real browser (Debian's chromium, Playwright):
open offers and loans (a defaulted one highlighted), futures with their deadlines, stakes
and proposals with live tallies; a loan made while the page is open appears without a
reload; an agent's key shows what that agent may read; text with markup stays text."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from agent_token_exchange import SimulatedClock, init_exchange, open_exchange

from . import test_dashboard as dashboard
from .conftest import RunningServer, Service
from .test_dashboard import ARTIFACTS, HOSTILE, open_dashboard

# The dashboard tests' chromium and page (one that fails the test on any page error).
browser = dashboard.browser
page = dashboard.page

HOUR = 3600


@pytest.fixture
def clock() -> SimulatedClock:
    """A clock starting at the browser's own now, so its "time left" reads sensibly."""
    return SimulatedClock(time.time_ns() // 1000)


@pytest.fixture
def clocked_service(tmp_path: Path, clock: SimulatedClock) -> Iterator[Service]:
    """A fresh exchange, an admin key and one key per agent, served on ``clock``."""
    init_exchange(tmp_path, clock=clock)
    with open_exchange(tmp_path, clock=clock) as ex:
        admin = ex.keys.create(admin=True).key
        keys = {agent: ex.keys.create(agent=agent).key for agent in ex.agents()}
    server = RunningServer(tmp_path, clock)
    yield Service(tmp_path, server.url, admin, keys)
    server.stop()


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def lend(http: httpx.Client, lender: str, borrower: str | None, amount: str, *,
         rate: str = "0.01", term: str = "48h") -> str:
    """An offer, taken by ``borrower`` unless None; the offer's or the loan's id."""
    offer = ok(http.post("/v1/loans/offers", json={
        "lender": lender, "amount": amount, "rate_per_day": rate, "term_hours": term}))
    if borrower is None:
        return str(offer["id"])
    return str(ok(http.post(f"/v1/loans/offers/{offer['id']}/take",
                            json={"borrower": borrower}))["id"])


def market(svc: Service, clock: SimulatedClock) -> None:
    """Two loans (one left to default), an open offer, an accepted and an open future,
    two stakes (one part unbonding) and a proposal with a yes and a no."""
    with svc.as_admin() as http:
        assert lend(http, "builder", "claude", "500") == "loan-1"
        assert lend(http, "spark", "zero", "100", term="1h") == "loan-2"
        # zero puts everything above its reserve into an offer: nothing left to collect.
        reserve = Decimal(ok(http.get("/v1/agents/zero/limits"))["reserve"])
        tokens = Decimal(ok(http.get("/v1/agents/zero"))["tokens"])
        assert lend(http, "zero", None, str(tokens - reserve)) == "offer-3"
        assert lend(http, "lambda", None, "200", rate="2%") == "offer-4"
        future = {"buyer": "claude", "work": "manual", "price": "300", "collateral": "100",
                  "deadline_hours": "24h"}
        ok(http.post("/v1/futures", json=future))
        ok(http.post("/v1/futures/future-1/accept", json={"seller": "builder"}))
        ok(http.post("/v1/futures", json={**future, "seller": "spark", "price": "50"}))
        ok(http.post("/v1/stakes", json={"agent": "claude", "amount": "1000"}))
        ok(http.post("/v1/stakes", json={"agent": "builder", "amount": "500"}))
        ok(http.post("/v1/unstakes", json={"agent": "builder", "amount": "100"}))
        ok(http.post("/v1/proposals", json={"agent": "claude", "parameter": "rate_limits.hourly",
                                            "value": "2000", "reason": "longer sessions"}))
        ok(http.post("/v1/proposals/prop-1/votes", json={"agent": "claude", "choice": "yes"}))
        ok(http.post("/v1/proposals/prop-1/votes", json={"agent": "builder", "choice": "no"}))
        clock.advance(2 * HOUR)
        ok(http.post("/v1/settle"))
        assert ok(http.get("/v1/loans/loan-2"))["status"] == "defaulted"


def row(page: Page, testid: str):
    return page.get_by_test_id(testid)


def test_the_panel_shows_offers_loans_futures_stakes_and_proposals(clocked_service: Service,
                                                                  clock: SimulatedClock,
                                                                  page: Page):
    """With an admin key the panel shows each open offer, each loan with what is owed now
    (the defaulted one highlighted), each future with its time left, each agent's stake and
    unbonding, and the proposal's tally and quorum; a loan taken while the page is open
    appears through the event stream, and a changed vote through the panel's poll, without
    a reload."""
    svc = clocked_service
    market(svc, clock)
    open_dashboard(page, svc, svc.admin)
    offer = row(page, "offer-offer-4")
    expect(offer).to_contain_text("lambda")
    expect(offer).to_contain_text("200.00")
    expect(offer).to_contain_text("2%/day")
    expect(offer).to_contain_text("offered")
    expect(row(page, "offer-offer-1")).to_have_count(0)  # taken: it is loan-1 now
    loan = row(page, "loan-loan-1")
    for text in ("builder", "claude", "500.00", "1%/day", "left", "open"):
        expect(loan).to_contain_text(text)
    with svc.as_admin() as http:
        owed = ok(http.get("/v1/loans/loan-1"))["owed"]
    assert Decimal(owed) > 500  # two hours of interest
    expect(row(page, "owed-loan-1")).to_have_text(f"{Decimal(owed):,}")
    defaulted = row(page, "loan-loan-2")
    expect(defaulted).to_have_class(re.compile(r"\bdefaulted\b"))
    expect(defaulted).to_contain_text("defaulted")
    assert defaulted.locator("td").first.evaluate(
        "n => getComputedStyle(n).color") == "rgb(239, 107, 99)"  # --bad
    future = row(page, "future-future-1")
    for text in ("claude", "builder", "manual", "300.00", "100.00", "accepted"):
        expect(future).to_contain_text(text)
    # Time left is counted on the browser's clock (the test's server clock ran 2 h ahead).
    expect(future).to_contain_text(re.compile(r"2[1-3]h \d+m left"))
    expect(row(page, "future-future-2")).to_contain_text("spark?")
    expect(row(page, "stake-claude")).to_contain_text("1,000.00")
    expect(row(page, "stake-builder")).to_contain_text("400.00")
    expect(row(page, "stake-builder")).to_contain_text("100.00")
    expect(row(page, "stake-zero")).to_have_count(0)
    proposal = row(page, "proposal-prop-1")
    for text in ("rate_limits.hourly", "2000", "voting", "(now 1000"):
        expect(proposal).to_contain_text(text)
    expect(row(page, "yes-prop-1")).to_have_text("1,000.00")
    expect(proposal).to_contain_text("400.00")
    expect(row(page, "quorum-prop-1")).to_contain_text("100% / 20%")

    # A loan taken through the API while the page is open appears without a reload.
    page.evaluate("window.notReloaded = true")
    with svc.as_agent("spark") as http:
        ok(http.post("/v1/loans/offers/offer-4/take", json={"borrower": "spark"}))
    expect(row(page, "loan-loan-3")).to_contain_text("lambda", timeout=5_000)
    expect(row(page, "offer-offer-4")).to_have_count(0)
    # A vote moves no tokens (no event): the panel's own poll brings the new tally.
    with svc.as_agent("builder") as http:
        ok(http.post("/v1/proposals/prop-1/votes", json={"agent": "builder",
                                                         "choice": "abstain"}))
    expect(row(page, "proposal-prop-1").locator("td").nth(6)).to_have_text("400.00",
                                                                           timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".market-panel").screenshot(path=str(ARTIFACTS / "dashboard-market.png"))


def test_an_agent_key_shows_its_own_loans_and_stake(fresh_service: Service, page: Page):
    """claude's key shows the open offers (the market every key reads), its own loan but not
    one between two others, and its own stake but not another's; its new loan appears live."""
    svc = fresh_service
    with svc.as_admin() as http:
        assert lend(http, "builder", "claude", "300") == "loan-1"
        assert lend(http, "spark", "zero", "100") == "loan-2"
        assert lend(http, "lambda", None, "50") == "offer-3"
        ok(http.post("/v1/stakes", json={"agent": "claude", "amount": "200"}))
        ok(http.post("/v1/stakes", json={"agent": "builder", "amount": "300"}))
    open_dashboard(page, svc, svc.keys["claude"])
    expect(page.locator("#who")).to_have_text("view of claude")
    expect(row(page, "loan-loan-1")).to_contain_text("builder")
    expect(row(page, "offer-offer-3")).to_contain_text("lambda")
    expect(row(page, "stake-claude")).to_contain_text("200.00")
    expect(page.get_by_test_id("market-loans").locator("tbody tr")).to_have_count(2)
    expect(row(page, "loan-loan-2")).to_have_count(0)
    expect(row(page, "stake-builder")).to_have_count(0)
    with svc.as_agent("claude") as http:
        ok(http.post("/v1/loans/offers/offer-3/take", json={"borrower": "claude"}))
    expect(row(page, "loan-loan-3")).to_contain_text("lambda", timeout=5_000)


def test_market_text_with_markup_renders_as_text(fresh_service: Service, page: Page):
    """A future's work pattern and a proposal's reason holding markup are shown as text
    (the reason as a title), and no script of theirs runs."""
    svc = fresh_service
    work = f"commit:{HOSTILE}"
    with svc.as_admin() as http:
        ok(http.post("/v1/futures", json={"buyer": "claude", "work": work, "price": "10",
                                          "collateral": "1", "deadline_hours": "24h"}))
        ok(http.post("/v1/stakes", json={"agent": "claude", "amount": "100"}))
        ok(http.post("/v1/proposals", json={"agent": "claude", "parameter": "rate_limits.hourly",
                                            "value": "2000", "reason": HOSTILE}))
    open_dashboard(page, svc, svc.admin)
    expect(row(page, "future-future-1")).to_contain_text(work)
    expect(row(page, "proposal-prop-1").locator("td[title]").first).to_have_attribute(
        "title", HOSTILE)
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("window.__xss") is None
