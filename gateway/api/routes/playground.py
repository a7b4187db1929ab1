"""The web playground: `GET /` is a static page (plain HTML, CSS and JavaScript in gateway/static/playground,
no CDN, no build step) that calls the same HTTP API as any client — GET /models, POST /predict — from the
browser, with bundled example inputs for every family under `/playground/examples/`.

Why static files and no server-side rendering: the page is a client of the public API like curl, so it can
never see more than a user could, and it keeps working unchanged whatever the gateway does inside.
Turned off with GATEWAY_PLAYGROUND_ENABLED=false (then `/` and `/playground/` do not exist).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[2] / "static" / "playground"
ASSETS_URL = "/playground"

# Only the gateway: a CDN link slipping into the page would be refused by the browser, not silently used.
CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def playground_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP})


def install(app: FastAPI) -> None:
    """The page at `/` and its files (scripts, styles, examples) under `/playground/`."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=STATIC_DIR), name="playground")
