"""/docs is Swagger UI served by the exchange itself: no CDN, no outside favicon. The page
is checked as HTML and rendered in a real browser that may reach only the server."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import Service
from .test_dashboard import browser, page  # noqa: F401 (fixtures: chromium, local only)


def test_docs_page_links_only_local_assets(service: Service):
    """The /docs page links only assets served by the exchange itself, each answering 200."""
    with service.client() as http:
        html = http.get("/docs").text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
        urls += re.findall(r"""url:\s*['"]([^'"]+)""", html)  # the spec Swagger UI loads
        assert len(urls) >= 4, html  # script, stylesheet, favicon, openapi.json
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), url
            assert http.get(url).status_code == 200, url
    assert "http://" not in html and "https://" not in html


def test_docs_renders_the_api_with_every_request_to_the_server(service: Service,
                                                                page: Page):  # noqa: F811
    """/docs renders the API in a browser with every request going to the exchange's own server."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{service.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Agent Token Exchange",
                                                                     timeout=10_000)
    expect(page.locator("#operations-spending-llm_v1_agents__agent__llm_post")).to_be_visible()
    assert any(url.endswith("/openapi.json") for url in requested)
    assert all(url.startswith(service.url) for url in requested), requested
