"""`servectl admin ...`: the gateway's admin API from the command line (label moves, rollback, canary share,
config reload). Talks HTTP to a running gateway with the bearer token from --token or $GATEWAY_ADMIN_TOKEN."""

from __future__ import annotations

from typing import Any, Optional

import typer

from servectl.app import app

admin_app = typer.Typer(help="Move version labels, roll back, set canary shares, reload models.config (gateway admin API).", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

GatewayOpt = typer.Option("http://127.0.0.1:8000", "--gateway", envvar="GATEWAY_URL", help="gateway base URL")
TokenOpt = typer.Option(..., "--token", envvar="GATEWAY_ADMIN_TOKEN", help="admin bearer token")


def _call(method: str, gateway: str, path: str, token: str, body: Any = None) -> Any:
    import httpx

    try:
        r = httpx.request(method, gateway.rstrip("/") + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    except httpx.HTTPError as e:
        typer.echo(f"cannot reach the gateway at {gateway}: {e}", err=True)
        raise typer.Exit(2) from None
    try:
        data = r.json()
    except ValueError:
        data = {"error": {"message": r.text}}
    if r.status_code >= 400:
        typer.echo(f"{r.status_code}: {data.get('error', {}).get('message', data)}", err=True)
        raise typer.Exit(1)
    return data


@admin_app.command("label")
def label(model: str, label: str, version: int, gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Point LABEL of MODEL at VERSION (the backend loads it first if needed)."""
    d = _call("PUT", gateway, f"/admin/models/{model}/labels/{label}", token, {"version": version})
    typer.echo(f"{d['model']}: {d['label']} -> {d['version']} (was {d['previous']})")


@admin_app.command("rollback")
def rollback(model: str, label: str = typer.Argument("stable"), gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Move LABEL of MODEL back to the version it pointed at before its last move."""
    d = _call("POST", gateway, f"/admin/models/{model}/labels/{label}/rollback", token)
    typer.echo(f"{d['model']}: {d['label']} -> {d['version']} (was {d['previous']})")


@admin_app.command("unlabel")
def unlabel(model: str, label: str, gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Remove LABEL from MODEL."""
    d = _call("DELETE", gateway, f"/admin/models/{model}/labels/{label}", token)
    typer.echo(f"{d['model']}: {d['label']} removed (was {d['previous']})")


@admin_app.command("canary")
def canary(model: str, share: float = typer.Argument(..., min=0.0, max=1.0), gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Send SHARE (0..1) of MODEL's unpinned requests to its `canary` label."""
    d = _call("PUT", gateway, f"/admin/models/{model}/canary", token, {"share": share})
    typer.echo(f"{d['model']}: canary share {d['share']}")


@admin_app.command("reload")
def reload(gateway: str = GatewayOpt, token: Optional[str] = TokenOpt) -> None:
    """Re-read models.config and send it to the backend(s)."""
    d = _call("POST", gateway, "/admin/reload", token or "")
    typer.echo("reloaded: " + ", ".join(d["models"]))
