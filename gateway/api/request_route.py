"""`RequestRoute`: an APIRoute whose endpoint takes the Request and returns a Response, called as it is.

Why: FastAPI's request handler solves the endpoint's dependencies, reads and validates a body, and wraps the
call in its exit stacks even when the endpoint declares none of that. For POST /predict, whose endpoint
only takes the Request (it parses JSON or multipart itself, in the order its errors are documented), that
machinery measured ~35 µs of a trivial request in process (FastAPI 0.165), about a quarter of the gateway's
framework cost per request. The route stays an ordinary APIRoute for everything else — path matching, the
OpenAPI operation, the app's middleware and exception handlers — using FastAPI's documented extension point
(a custom `route_class` overriding `get_route_handler`).

When the route has anything to solve (router dependencies such as `require_api_key` when API keys are
configured, or parameters other than the Request), the handler is FastAPI's own, so a dependency is never
silently skipped. Give such dependencies to the `APIRouter` (as `gateway.api.routes.predict.build_router`
does), not to `include_router`: FastAPI 0.165 keeps include-time dependencies outside the route object, where
this class cannot see them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


def _takes_only_the_request(route: APIRoute) -> bool:
    d = route.dependant
    params = (d.path_params, d.query_params, d.header_params, d.cookie_params, d.body_params, d.dependencies)
    return d.request_param_name is not None and not any(params) and route.body_field is None


class RequestRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        if not _takes_only_the_request(self):
            return super().get_route_handler()
        endpoint: Callable[..., Awaitable[Any]] = self.endpoint
        name = self.dependant.request_param_name

        async def handler(request: Request) -> Response:
            response = await endpoint(**{name: request})
            if not isinstance(response, Response):
                raise TypeError(f"{endpoint.__qualname__} must return a Response, got {type(response).__name__}")
            return response

        return handler
