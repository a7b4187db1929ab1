"""`/docs` (Swagger UI) and `/redoc` served with their JavaScript and CSS from the gateway itself.

Why: FastAPI's default pages load Swagger UI and ReDoc from a CDN (and ReDoc its fonts from Google), so on an
air-gapped cluster they are blank. The assets come from the pinned `fastapi-offline` package (which ships
the Swagger UI bundle, its CSS and ReDoc's standalone bundle) and are mounted under `/docs-assets`; the
HTML is FastAPI's own (`get_swagger_ui_html`, `get_redoc_html`) pointed at them. The app is built with
`docs_url=None, redoc_url=None`, and `install` adds these routes instead.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS_URL = "/docs-assets"
# The pages may load from the gateway only. ReDoc's bundle always asks cdn.redoc.ly for its footer logo
# (no option turns it off): the policy stops that request inside the browser. Inline script and style
# are FastAPI's page template and the bundles' own; ReDoc runs its search in a blob: worker.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
DOCS_URL = "/docs"
REDOC_URL = "/redoc"


def assets_dir() -> Path:
    """The directory of the pinned package's Swagger UI / ReDoc files."""
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Mount the assets and add the two pages (not in the schema: they document it)."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    oauth2_redirect = f"{DOCS_URL}/oauth2-redirect"

    def root(request: Request) -> str:
        return str(request.scope.get("root_path") or "")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = root(request)
        page = get_swagger_ui_html(
            openapi_url=f"{base}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{base}{oauth2_redirect}",
            swagger_js_url=f"{base}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            # no online validator: Swagger UI would send the spec to validator.swagger.io for its badge
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = CSP
        return page

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        page = get_redoc_html(
            openapi_url=f"{base}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{base}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = CSP
        return page
