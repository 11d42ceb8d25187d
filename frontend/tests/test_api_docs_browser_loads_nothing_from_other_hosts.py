"""In headless Chromium, the API docs (Swagger UI and ReDoc) render from this server alone: no
request reaches another host (control rooms are offline). ReDoc's sidebar still builds an <img> of
its logo on cdn.redoc.ly; the page's content security policy stops it inside the browser."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(("path", "rendered"), [("/api/docs/", ".opblock"), ("/api/redoc/", "text=/api/v1/sites/")])
def test_the_docs_page_renders_without_reaching_another_host(server, browser, path, rendered):
    page = browser.new_page()
    elsewhere: list[str] = []  # requests that left for another host (got an answer or a network error)
    blocked: list[str] = []
    page.on("requestfinished", lambda request: _other_host(request.url) and elsewhere.append(request.url))

    def on_failed(request):
        if _other_host(request.url):
            (blocked if request.failure == "csp" else elsewhere).append(request.url)

    page.on("requestfailed", on_failed)

    page.goto(f"{server.base_url}{path}", wait_until="networkidle")
    page.wait_for_selector(rendered, timeout=20_000)
    page.wait_for_load_state("networkidle")

    assert elsewhere == []
    assert set(blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}


def _other_host(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in {"127.0.0.1", "localhost"}
