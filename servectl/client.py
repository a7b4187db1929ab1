"""The one HTTP client of the gateway's admin (and model) API, used by `servectl admin ...` and by
`servectl canary|promote|rollback|gc` on a running stack.

Why one: the URL, the bearer token, the timeout (a label move waits for a version to load, so minutes) and
how a refusal reads on the terminal must not differ between two commands doing the same thing. A refusal
is one line with the gateway's own message — `gateway 409: label 'stable' of model 'm' has no earlier
version recorded; ...` — and exit status 1; a gateway that cannot be reached is exit status 2.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import typer

TIMEOUT_S = 600.0


class ClientError(Exception):
    """A failed call: `message` is one line for the terminal, `exit_code` 1 (refused) or 2 (unreachable)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


class AdminClient:
    def __init__(self, url: str, token: str, *, timeout: float = TIMEOUT_S) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def call(self, method: str, path: str, body: Any = None) -> Any:
        import httpx  # servectl's commands import only what they use

        try:
            r = httpx.request(method, self.url + path, json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout)
        except httpx.HTTPError as e:
            raise ClientError(f"cannot reach the gateway at {self.url}: {_one_line(e) or type(e).__name__}", 2) from None
        try:
            data = r.json()
        except ValueError:
            data = {"error": {"message": r.text[:500]}}
        if r.status_code >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            message = error.get("message", error) if isinstance(error, dict) else data
            raise ClientError(f"gateway {r.status_code}: {_one_line(message)}", 1)
        return data

    # ---- the admin API (gateway/api/routes/admin.py)
    def move_label(self, model: str, label: str, version: int) -> dict[str, Any]:
        return self.call("PUT", f"/admin/models/{model}/labels/{label}", {"version": version})

    def rollback_label(self, model: str, label: str) -> dict[str, Any]:
        return self.call("POST", f"/admin/models/{model}/labels/{label}/rollback")

    def delete_label(self, model: str, label: str) -> dict[str, Any]:
        return self.call("DELETE", f"/admin/models/{model}/labels/{label}")

    def set_canary_share(self, model: str, share: float) -> dict[str, Any]:
        """`share`: a fraction of unpinned requests within 0..1 (the gateway refuses anything else)."""
        return self.call("PUT", f"/admin/models/{model}/canary", {"share": share})

    def reload(self) -> dict[str, Any]:
        return self.call("POST", "/admin/reload")

    # ---- the model API
    def model(self, model: str) -> dict[str, Any]:
        return self.call("GET", f"/models/{model}")


@contextlib.contextmanager
def exit_on_error(unreachable_hint: str = "") -> Iterator[None]:
    """Turn a ClientError into its one line on stderr and its exit status."""
    try:
        yield
    except ClientError as e:
        typer.echo(e.message + (unreachable_hint if e.exit_code == 2 else ""), err=True)
        raise typer.Exit(e.exit_code) from None
