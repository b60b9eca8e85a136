"""The dashboard in a real browser (Debian's chromium, driven by Playwright): it shows
every agent's balance, and a spend made through the API appears without a reload."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .conftest import Service

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

if not shutil.which(CHROMIUM):
    # `make test` installs Debian's chromium first (make chromium); never a download.
    raise RuntimeError(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # (A 401 is logged by the browser itself when the login test sends a wrong key.)
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "401 (Unauthorized)" not in m.text else None)
    # Nothing may come from anywhere but the exchange itself.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        "http://127.0.0.1") else (errors.append(route.request.url), route.abort())[1])
    yield page
    context.close()
    assert not errors, errors


def open_dashboard(page: Page, svc: Service, key: str) -> None:
    page.goto(f"{svc.url}/#key={key}")
    expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=10_000)


def test_dashboard_shows_balances_and_a_spend_appears_live(fresh_service: Service,
                                                           page: Page):
    """The dashboard shows every balance, pool shares and a chart, and an API spend and refusal
    appear without a reload."""
    svc = fresh_service
    with svc.as_admin() as http:
        http.post("/v1/pools", json={"name": "opus-team", "creator": "claude",
                                     "min_contribution": "100"})
        http.post("/v1/pools/pool-1/join", json={"agent": "builder"})
        http.post("/v1/pools/pool-1/contribute", json={"agent": "claude", "amount": "600"})
        http.post("/v1/pools/pool-1/contribute", json={"agent": "builder", "amount": "400"})
    open_dashboard(page, svc, svc.admin)
    for agent in ("claude", "builder", "lambda", "spark", "observer", "zero"):
        expect(page.get_by_test_id(f"tokens-{agent}")).to_be_visible()
    expect(page.get_by_test_id("tokens-claude")).to_have_text("9,400.00")
    expect(page.get_by_test_id("tokens-zero")).to_have_text("10,000.00")
    pool = page.locator("[data-pool='pool-1']")
    expect(pool).to_contain_text("60.00%")
    expect(pool).to_contain_text("40.00%")
    expect(page.locator("#balance-chart path[data-series='claude']")).to_have_count(1)

    # A spend through the API (not through the page) shows up without a reload.
    page.evaluate("window.notReloaded = true")
    with svc.as_agent("claude") as http:
        assert http.post("/v1/agents/claude/llm",
                         json={"task_type": "coding", "token_count": 20_000}).status_code == 200
        assert http.post("/v1/agents/claude/llm",
                         json={"task_type": "coding", "token_count": 10**6}).status_code == 429
    expect(page.get_by_test_id("tokens-claude")).to_have_text("9,100.00", timeout=5_000)
    expect(page.get_by_test_id("hourly-claude")).to_contain_text("300.00 / 1,000.00")
    expect(page.locator("#flow li").first).to_contain_text("burst limit")
    expect(page.locator("#flow")).to_contain_text("claude-opus for coding")
    assert page.evaluate("window.notReloaded") is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_dashboard_asks_for_a_key_and_rejects_a_wrong_one(fresh_service: Service,
                                                          page: Page):
    """The dashboard asks for a key, rejects a wrong one and shows an agent's own view for its key.
    """
    page.goto(fresh_service.url + "/")
    expect(page.locator("#login")).to_be_visible()
    page.fill("#key", "atx_not_a_real_key")
    page.click("#login button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("not valid")
    page.fill("#key", fresh_service.keys["zero"])
    page.click("#login button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=10_000)
    expect(page.locator("#who")).to_have_text("view of zero")
    expect(page.get_by_test_id("tokens-zero")).to_have_text("10,000.00")


def test_the_key_is_kept_for_this_tab_only_never_in_local_storage(fresh_service: Service,
                                                                  page: Page):
    """localStorage outlives the browser session and is readable by any page script of the
    origin later: an admin key must not be left there."""
    svc = fresh_service
    page.goto(svc.url + "/")
    page.evaluate("localStorage.setItem('atx-key', 'atx_left_by_an_older_version')")
    page.reload()
    page.fill("#key", svc.admin)
    page.click("#login button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=10_000)
    assert page.evaluate("Object.keys(localStorage)") == []
    assert page.evaluate("sessionStorage.getItem('atx-key')") == svc.admin
    page.reload()  # the same tab keeps its key
    expect(page.locator("body")).to_have_attribute("data-live", "1", timeout=10_000)
    other = page.context.new_page()  # another tab asks again
    other.goto(svc.url + "/")
    expect(other.locator("#login")).to_be_visible()
