"""The dashboard in a real browser (Debian's chromium, driven by Playwright): it shows
every agent's balance, and a spend made through the API appears without a reload."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agent_token_exchange import open_exchange
from agent_token_exchange.sim import palette

from ..ledger_checks import plant_refusal
from .conftest import Service

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
STATIC = Path(__file__).resolve().parents[2] / "src" / "agent_token_exchange" / "server" / "static"
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
        http.post("/v1/pools/pool-1/invite", json={"agent": "builder"})
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


# -- layout, headline figures, axes (issue 14) ------------------------------------------

def busy_service(svc: Service) -> None:
    """Some spending, a refusal and a pool, so every panel has something to draw."""
    with svc.as_admin() as http:
        http.post("/v1/pools", json={"name": "opus-team", "creator": "claude",
                                     "min_contribution": "100"})
        http.post("/v1/pools/pool-1/invite", json={"agent": "builder"})
        http.post("/v1/pools/pool-1/join", json={"agent": "builder"})
        http.post("/v1/pools/pool-1/contribute", json={"agent": "claude", "amount": "600"})
    for agent, count in (("claude", 20_000), ("builder", 5_000), ("zero", 50_000)):
        with svc.as_agent(agent) as http:
            http.post(f"/v1/agents/{agent}/llm", json={"task_type": "coding",
                                                       "token_count": count})
    with svc.as_agent("claude") as http:  # over the burst limit: a refusal
        http.post("/v1/agents/claude/llm", json={"task_type": "coding", "token_count": 10**6})


def round_ticks(page: Page, chart: str) -> list[float]:
    values = [float(v) for v in page.locator(f"{chart} text.ytick").evaluate_all(
        "nodes => nodes.map(n => n.dataset.value)")]
    labels = page.locator(f"{chart} text.ytick").all_text_contents()
    assert len(values) >= 3, labels
    step = values[1] - values[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5)), (step, labels)
    for value, label in zip(values, labels, strict=True):
        assert math.isclose(value / step, round(value / step), abs_tol=1e-6), labels
        assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", label), labels  # 10,000, not 10k
    return values


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (390, 844)])
def test_dashboard_fits_the_screen_with_tiles_and_round_axes(fresh_service: Service,
                                                           browser: Browser, width: int,
                                                           height: int):
    """At 1920×1080 and 390×844 the dashboard has no sideways overflow, shows its headline
    tiles and labels its axes with round numbers."""
    svc = fresh_service
    busy_service(svc)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_dashboard(page, svc, svc.admin)
        expect(page.get_by_test_id("tokens-claude")).to_be_visible()
        for tile in ("circulation", "spend", "refusals", "near"):
            expect(page.get_by_test_id(f"tile-{tile}")).to_be_visible()
            expect(page.locator(f"#tile-{tile}")).not_to_have_text("–")
        # 6 agents × 10,000 granted, less what inference burnt; the 600 claude put into
        # the open pool still circulates.
        spent = sum(float(t.replace(",", "")) for t in page.locator(
            "#agents td:nth-child(5)").all_text_contents())
        expect(page.locator("#tile-circulation")).to_have_text(f"{60_600 - spent:,.2f}")
        expect(page.locator("#tile-refusals")).to_have_text("1")
        round_ticks(page, "#balance-chart")
        round_ticks(page, "#spend-chart")
        for chart in ("#balance-chart", "#spend-chart"):
            assert page.locator(f"{chart} text.xtick").count() >= 3
        assert page.locator("#range-balance").text_content() == \
            page.locator("#range-spend").text_content()
        # The legend names exactly the lines drawn.
        drawn = page.locator("#balance-chart path[data-series]").evaluate_all(
            "nodes => nodes.map(n => n.dataset.series)")
        assert page.locator("#balance-legend span").all_text_contents() == drawn
        # The flow names agents, not ledger accounts.
        expect(page.locator("#flow")).to_contain_text("claude → inference")
        expect(page.locator("#flow")).not_to_contain_text("agent:claude")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow}px of sideways scrolling at {width}px"
        if width >= 1500:  # a wide screen is used: table and flow side by side
            agents = page.locator(".agents-panel").bounding_box()
            flow = page.locator(".flow-panel").bounding_box()
            assert agents and flow and math.isclose(agents["y"], flow["y"], abs_tol=2)
            assert flow["x"] + flow["width"] > width * 0.95
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}x{height}.png"),
                        full_page=True)
    finally:
        context.close()
    assert not errors, errors


def test_the_login_screen_hides_the_dashboard(fresh_service: Service, page: Page):
    """`main { display: grid }` must not override `hidden`: nothing behind the login."""
    page.goto(fresh_service.url + "/")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#dashboard")).to_be_hidden()
    assert page.evaluate("getComputedStyle(document.querySelector('#dashboard')).display") \
        == "none"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-login.png"))


def test_dissolved_pools_are_muted_and_listed_after_open_ones(fresh_service: Service,
                                                              page: Page):
    """A dissolved pool is drawn muted and listed after the open ones."""
    svc = fresh_service
    with svc.as_admin() as http:
        for name in ("first", "second"):
            http.post("/v1/pools", json={"name": name, "creator": "claude",
                                         "min_contribution": "1"})
        http.post("/v1/pools/pool-1/dissolve")
    open_dashboard(page, svc, svc.admin)
    pools = page.locator("#pools .pool")
    expect(pools).to_have_count(2)
    expect(pools.first).to_have_attribute("data-pool", "pool-2")
    expect(page.locator("[data-pool='pool-1']")).to_have_class(re.compile("dissolved"))
    assert float(page.locator("[data-pool='pool-1']").evaluate(
        "n => getComputedStyle(n).opacity")) < 0.6


# -- hostile names (issue 10, item 7) ---------------------------------------------------

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_names_from_the_ledger_render_as_text_and_no_script_runs(fresh_service: Service,
                                                                 page: Page):
    """A refusal row is outside the hash chain and `import` used to take any text in it;
    whatever reaches the page, the dashboard shows it as text and runs nothing."""
    svc = fresh_service
    with open_exchange(svc.home) as ex:
        plant_refusal(ex, agent="claude", pool_id=HOSTILE, operation=HOSTILE, code="x",
                      message=HOSTILE, amount=None)
    with svc.as_admin() as http:  # a pool name through the API, where one is accepted
        named = http.post("/v1/pools", json={"name": HOSTILE, "creator": "claude",
                                             "min_contribution": "1"}).status_code == 200
    open_dashboard(page, svc, svc.admin)
    expect(page.locator("#flow li.refusal").first).to_contain_text(f"refused {HOSTILE}")
    if named:
        expect(page.locator("#pools")).to_contain_text(HOSTILE)
    # Live too: a refusal recorded while the page is open arrives through the stream.
    with open_exchange(svc.home) as ex:
        plant_refusal(ex, agent="zero", pool_id=None, operation="live " + HOSTILE, code="x",
                      message=HOSTILE, amount=None)
    expect(page.locator("#flow li.refusal").first).to_contain_text(f"live {HOSTILE}",
                                                                   timeout=5_000)
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("window.__xss") is None


def test_every_page_forbids_inline_script(fresh_service: Service):
    """The dashboard, its script, /docs and /health all send a policy that forbids inline script."""
    with fresh_service.client() as http:
        for path in ("/", "/static/app.js", "/static/market.js", "/docs", "/health"):
            policy = http.get(path).headers["content-security-policy"]
            script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
            assert "'unsafe-inline'" not in script and "'self'" in script, (path, policy)
    page_text = (STATIC / "index.html").read_text()
    assert "<script>" not in page_text and " style=" not in page_text
    assert "<style" not in page_text and " on" not in re.sub(r"<script src=[^>]+>", "",
                                                            page_text).split("<body")[0]
    for script in ("app.js", "charts.js", "market.js"):
        assert "innerHTML" not in (STATIC / script).read_text(), script


def test_the_dashboard_uses_the_charts_palette():
    """One palette: the stylesheet carries sim/palette.py's colours, block for block."""
    css = (STATIC / "style.css").read_text()
    block = css.split("/* palette: begin */\n")[1].split("/* palette: end */")[0]
    assert block.rstrip("\n") == palette.css_variables()


def test_a_repeated_refusal_is_one_line_with_its_count(fresh_service: Service, page: Page):
    """An agent refused again and again shows as one flow line counting the repeats, and
    the refusals tile counts every one; a repeat arriving live replaces the line."""
    svc = fresh_service
    too_much = {"task_type": "coding", "token_count": 10**7}
    with svc.as_agent("claude") as http:
        for _ in range(3):
            assert http.post("/v1/agents/claude/llm", json=too_much).status_code == 429
    open_dashboard(page, svc, svc.admin)
    lines = page.locator("#flow li.refusal")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("refused llm ×3")
    expect(page.locator("#tile-refusals")).to_have_text("3")
    with svc.as_agent("claude") as http:
        assert http.post("/v1/agents/claude/llm", json=too_much).status_code == 429
    expect(lines.first).to_contain_text("refused llm ×4", timeout=5_000)
    expect(lines).to_have_count(1)
    expect(page.locator("#tile-refusals")).to_have_text("4", timeout=5_000)
