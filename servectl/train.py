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
    compare: bool = typer.Option(True, "--compare/--no-compare", help="evaluate the new and the `stable` version on the same held-out set (manifest `comparison`)"),
) -> None:
    """Train a family and publish its next version into the repository (atomically, never overwriting)."""
    from training import registry

    options = {}
    for item in option:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set takes KEY=VALUE, got {item!r}")
        options[key.replace("-", "_")] = value
    from servectl import compare as cmp
    from common.repository import default_repository

    servables = Path(repo or default_repository())
    fam = registry.discover().get(family)
    for note in cmp.pin_labelled_versions(servables, fam.models if fam else ()):
        typer.echo(note)
    try:
        published = registry.train(family, preset=preset, data=data, repo=repo, **options)
    except KeyError as e:
        raise typer.BadParameter(str(e.args[0])) from None
    typer.echo(f"published {published.model} version {published.version} at {published.path}")
    comparison = None
    if compare:
        comparison = cmp.compare_with_stable(family, published.model, servables, published.version, data=data, preset=preset, options=options)
        if comparison is not None:
            typer.echo(cmp.format_comparison(comparison))
    from common import history

    history.append(servables, published.model, "train", versions={"new": published.version, "stable": comparison["stable_version"] if comparison else None},
                   metrics=comparison["metrics"] if comparison else {}, family=family, preset=preset, data=str(data) if data else None)


@app.command()
def families() -> None:
    """List the training families this installation knows."""
    from training import registry

    for name, fam in registry.discover().items():
        typer.echo(f"{name}: publishes {', '.join(fam.models)}")
