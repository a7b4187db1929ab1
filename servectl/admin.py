"""`servectl admin ...`: the gateway's admin API from the command line (label moves, rollback, canary share,
config reload). Talks HTTP to a running gateway (`servectl.client.AdminClient`) with the bearer token from
--token or $GATEWAY_ADMIN_TOKEN."""

from __future__ import annotations

import typer

from common import labels as L
from servectl.app import app
from servectl.client import AdminClient, exit_on_error

admin_app = typer.Typer(help="Move version labels, roll back, set canary shares, reload models.config (gateway admin API).", no_args_is_help=True)
app.add_typer(admin_app, name="admin")

GatewayOpt = typer.Option("http://127.0.0.1:8000", "--gateway", envvar="GATEWAY_URL", help="gateway base URL")
TokenOpt = typer.Option(..., "--token", envvar="GATEWAY_ADMIN_TOKEN", help="admin bearer token")


@admin_app.command("label")
def label(model: str, label: str, version: int, gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Point LABEL of MODEL at VERSION (the backend loads it first if needed)."""
    with exit_on_error():
        d = AdminClient(gateway, token).move_label(model, label, version)
    typer.echo(f"{d['model']}: {d['label']} -> {d['version']} (was {d['previous']})")


@admin_app.command("rollback")
def rollback(model: str, label: str = typer.Argument(L.STABLE), gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Move LABEL of MODEL back to the version it pointed at before its last move."""
    with exit_on_error():
        d = AdminClient(gateway, token).rollback_label(model, label)
    typer.echo(f"{d['model']}: {d['label']} -> {d['version']} (was {d['previous']})")


@admin_app.command("unlabel")
def unlabel(model: str, label: str, gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Remove LABEL from MODEL."""
    with exit_on_error():
        d = AdminClient(gateway, token).delete_label(model, label)
    typer.echo(f"{d['model']}: {d['label']} removed (was {d['previous']})")


@admin_app.command("canary")
def canary(model: str, share: float = typer.Argument(..., help=f"canary share: {L.SHARE_UNIT}"), gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Send SHARE (a fraction 0..1) of MODEL's unpinned requests to its `canary` label."""
    try:
        L.check_share(share)
    except L.InvalidShare as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    with exit_on_error():
        d = AdminClient(gateway, token).set_canary_share(model, share)
    typer.echo(f"{d['model']}: canary share {d['share']}")


@admin_app.command("reload")
def reload(gateway: str = GatewayOpt, token: str = TokenOpt) -> None:
    """Re-read models.config and send it to the backend(s)."""
    with exit_on_error():
        d = AdminClient(gateway, token).reload()
    typer.echo("reloaded: " + ", ".join(d["models"]))
