"""Presets as data (docs/design.md §7): `tiny` trains on 2 CPU cores in minutes, `book` is the book's full size."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Preset:
    width: float  # channel multiplier; 1.0 = the published architecture
    epochs: int
    batch_size: int
    learning_rate: float
    fine_tune_learning_rate: float  # when unfreezing a pretrained backbone
    dropout: float = 0.0
    # BatchNorm moving-average momentum (Inception V3 only; VGG16 has no BN). Keras's 0.99 averages over ~100
    # steps and lags the weights; the tiny preset's short run (4 x 45 steps) left inference-mode BN statistics
    # stale (held-out top-1 10 % at 95 % training accuracy), so `tiny` uses 0.9 (a ~10-step window).
    bn_momentum: float = 0.99

    def with_options(self, **kw) -> "Preset":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


PRESETS: dict[str, dict[str, Preset]] = {
    "vgg16": {
        "tiny": Preset(width=1 / 16, epochs=4, batch_size=32, learning_rate=1e-3, fine_tune_learning_rate=1e-4),
        "book": Preset(width=1.0, epochs=10, batch_size=32, learning_rate=1e-3, fine_tune_learning_rate=1e-5, dropout=0.5),
    },
    "inception_v3": {
        "tiny": Preset(width=1 / 8, epochs=6, batch_size=32, learning_rate=1e-3, fine_tune_learning_rate=1e-4,
                       bn_momentum=0.9),
        "book": Preset(width=1.0, epochs=10, batch_size=32, learning_rate=1e-3, fine_tune_learning_rate=1e-5, dropout=0.2),
    },
}
