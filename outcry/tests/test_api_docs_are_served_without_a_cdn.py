import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command


def other_host_urls(html: str) -> list[str]:
    """The src/href URLs of ``html`` that name a host (the page's own URLs are relative)."""
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html, re.I)
    return [url for url in urls if urlsplit(url).netloc or url.startswith(("http:", "https:", "//"))]


def test_the_openapi_schema_is_served(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/sites/", "/api/v1/sensors/{id}/rotate-key/", "/api/v1/auth/token/"} <= set(schema["paths"])
    assert {"apiToken", "sensorKey"} <= set(schema["components"]["securitySchemes"])


def test_the_docs_page_loads_swagger_from_local_static_files(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "unpkg" not in html.lower()
    external = [url for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if url.startswith(("http", "//"))]
    assert external == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_neither_docs_page_links_another_host(client, make_user, path):
    client.force_login(make_user())

    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert other_host_urls(html) == []
    assert "googleapis" not in html and "gstatic" not in html  # no web fonts, not even a preconnect


def test_the_redoc_page_loads_redoc_from_local_static_files_and_only_from_this_server(client, db):
    response = client.get("/api/redoc/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js">' in html
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    # ReDoc's sidebar builds an <img> of its logo on cdn.redoc.ly: the page's policy keeps every
    # load on this server, so the browser never sends that request.
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert policy, "the ReDoc page carries its content security policy"
    sources = policy.group(1).split(";")[0].split()
    assert sources[0] == "default-src" and "'self'" in sources
    assert not any(source.startswith(("http", "*")) or "." in source for source in sources[1:])


def test_the_schema_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")
