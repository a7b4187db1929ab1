"""`gateway.api.request_route.RequestRoute`: the endpoint is called as it is only when there is nothing to solve.

The danger this guards against is a dependency (the API-key check) silently skipped by the short handler."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from gateway.api.request_route import RequestRoute


async def endpoint(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.url.path, "body": (await request.body()).decode()})


def refuse() -> None:
    raise HTTPException(401, "no key")


def _app(dependencies: list) -> FastAPI:
    router = APIRouter(route_class=RequestRoute, dependencies=dependencies)
    router.add_api_route("/echo", endpoint, methods=["POST"])
    app = FastAPI()
    app.include_router(router)
    return app


def test_endpoint_without_dependencies_is_called_with_the_request() -> None:
    with TestClient(_app([])) as client:
        r = client.post("/echo", content=b"hello")
    assert r.status_code == 200 and r.json() == {"path": "/echo", "body": "hello"}


def test_router_dependency_still_runs() -> None:
    with TestClient(_app([Depends(refuse)])) as client:
        r = client.post("/echo", content=b"hello")
    assert r.status_code == 401 and r.json() == {"detail": "no key"}


def test_route_with_parameters_uses_fastapis_handler() -> None:
    router = APIRouter(route_class=RequestRoute)

    @router.get("/square")
    async def square(n: int) -> dict:  # a query parameter: FastAPI validates it and serialises the dict
        return {"n2": n * n}

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/square", params={"n": 7}).json() == {"n2": 49}
        assert client.get("/square", params={"n": "x"}).status_code == 422


def test_endpoint_must_return_a_response() -> None:
    router = APIRouter(route_class=RequestRoute)

    @router.post("/bad")
    async def bad(request: Request) -> dict:
        return {"not": "a response"}

    app = FastAPI()
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=True) as client:
        try:
            client.post("/bad")
        except TypeError as e:
            assert "must return a Response" in str(e)
        else:
            raise AssertionError("a non-Response return passed")
