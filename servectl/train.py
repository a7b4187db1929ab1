"""`servectl train <family>`: run a family's training job and publish a new version."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from servectl.app import app


@app.command()
def train(
    family: str = typer.Argument(..., help="family to train (see `servectl families`)"),
    preset: str = typer.Option("tiny", help="tiny (2 CPU cores, minutes) or book (the book's sizes, GPU)"),
    data: Optional[Path] = typer.Option(None, help="training data directory (family-specific format)"),
    repo: Optional[Path] = typer.Option(None, help="model repository (default: servables/ or $SERVABLES_DIR)"),
    option: list[str] = typer.Option([], "--set", help="family option KEY=VALUE (repeatable)"),
) -> None:
    """Train a family and publish its next version into the repository (atomically, never overwriting)."""
    from training import registry

    options = {}
    for item in option:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set takes KEY=VALUE, got {item!r}")
        options[key.replace("-", "_")] = value
    try:
        published = registry.train(family, preset=preset, data=data, repo=repo, **options)
    except KeyError as e:
        raise typer.BadParameter(str(e.args[0])) from None
    typer.echo(f"published {published.model} version {published.version} at {published.path}")


@app.command()
def families() -> None:
    """List the training families this installation knows."""
    from training import registry

    for name, fam in registry.discover().items():
        typer.echo(f"{name}: publishes {', '.join(fam.models)}")
