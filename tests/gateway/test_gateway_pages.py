"""The pages the gateway serves to browsers, over HTTP (the browser itself is tests/playground/): the
playground and /docs, /redoc reference only files the gateway serves, every one of them answers, no
static file names another host, and GATEWAY_PLAYGROUND_ENABLED=false removes the playground."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gateway.api.routes.playground import STATIC_DIR
from gateway.core.config import Settings
from gateway.main import create_app


class Refs(HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]


def refs_of(html: str) -> list[str]:
    parser = Refs()
    parser.feed(html)
    return parser.refs


@pytest.fixture(scope="module")
def client(gw_gateway) -> httpx.Client:
    with httpx.Client(base_url=gw_gateway.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
def test_page_and_every_file_it_loads_come_from_the_gateway(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # the browser refuses anything from elsewhere (ReDoc's bundle asks a CDN for its logo)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    refs = refs_of(page.text)
    assert refs, "the page loads no script or style?"
    root = str(client.base_url).rstrip("/")
    base = f"{root}{path}"
    for ref in refs:
        url = urljoin(base, ref)
        assert urlsplit(url).netloc == urlsplit(root).netloc, f"{path} loads {ref} from another host"
        assert client.get(url).status_code == 200, f"{path}: {ref} is not served"
    # the page's inline script must not load anything from elsewhere either
    assert not re.search(r"https?://(?!127\.0\.0\.1)", page.text.replace("http://www.w3.org/", "")), page.text


def test_playground_files_name_no_other_host():
    for f in STATIC_DIR.glob("*.*"):
        text = f.read_text(encoding="utf-8")
        hosts = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)
        assert not [h for h in hosts if "www.w3.org" not in h], f"{f.name} names {hosts}"


def test_bundled_examples_are_all_there(client):
    index = json.loads((STATIC_DIR / "examples" / "index.json").read_text(encoding="utf-8"))
    assert set(index) == {"antispam", "classifier", "unet", "srgan", "text2image"}
    files = [e["file"] for fam in ("classifier", "srgan") for e in index[fam]]
    files += [p for e in index["unet"] for p in e["files"].values()]
    assert {e["kind"] for e in index["unet"]} == {"slice", "volume"}
    for path in files:
        r = client.get(f"/playground/examples/{path}")
        assert r.status_code == 200 and len(r.content) > 100, path
    assert all(e["text"].strip() for e in index["antispam"]) and all(e["caption"].strip() for e in index["text2image"])


def test_playground_can_be_turned_off(tmp_path):
    from starlette.testclient import TestClient

    # no lifespan (not entered as a context manager): these routes need no backend
    on = TestClient(create_app(Settings(servables=tmp_path)))
    off = TestClient(create_app(Settings(servables=tmp_path, playground_enabled=False)))
    assert on.get("/").status_code == 200 and on.get("/playground/app.js").status_code == 200
    assert off.get("/").status_code == 404 and off.get("/playground/app.js").status_code == 404
    assert off.get("/docs").status_code == 200 and off.get("/docs-assets/swagger-ui.css").status_code == 200  # the docs stay
