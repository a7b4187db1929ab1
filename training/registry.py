"""Training families register here so `servectl train <family>` and `make up` find them.

A family's training module calls `register(TrainingFamily(...))` at import time; `discover()` imports every
`training.<family>` package that has a `train` module. The contract of `train`: build data for `preset`
(or read `data`), train with progress and TensorBoard logs, evaluate on held-out data, publish through
`training.export.publish` into `repo`, and return the `Published` version.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import training

# `make up` trains missing families in this order (anti-spam first, design/issue 2).
ORDER = ("antispam", "vgg16", "inception_v3", "unet", "srgan", "text2image")


@dataclass(frozen=True)
class TrainingFamily:
    name: str  # the family name given to `servectl train`
    models: tuple[str, ...]  # servables it publishes
    train: Callable[..., Any]  # train(preset=..., data=..., repo=..., **options) -> Published
    options: dict[str, str] = field(default_factory=dict)  # extra option name -> help text


FAMILIES: dict[str, TrainingFamily] = {}


def register(family: TrainingFamily) -> TrainingFamily:
    FAMILIES[family.name] = family
    return family


def discover() -> dict[str, TrainingFamily]:
    for m in pkgutil.iter_modules(training.__path__):
        if m.ispkg:
            try:
                importlib.import_module(f"training.{m.name}.train")
            except ModuleNotFoundError as e:
                if e.name != f"training.{m.name}.train":
                    raise
    return dict(sorted(FAMILIES.items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else len(ORDER)))


def train(name: str, *, preset: str = "tiny", data: Path | None = None, repo: Path | None = None, **options: Any) -> Any:
    families = discover()
    if name not in families:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(families) or 'none'}")
    return families[name].train(preset=preset, data=data, repo=repo, **options)
