"""Preset sizes of the text-to-image family: data, not branches (`tiny` trains on 2 CPU cores in minutes,
`book` has the book's sizes: 512-d z, 128-d text vector, 64x64 images, batch 64, for a GPU)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    n_train: int  # procedural flowers (training combinations)
    n_val: int  # unseen images of training combinations (judge check)
    n_test: int  # held-out combinations only
    seed: int
    embed_dim: int
    text_dim: int
    code_dim: int
    z_dim: int
    gf_dim: int
    df_dim: int
    batch: int
    encoder_steps: int  # text/image encoder pre-training (cosine hinge loss)
    gan_steps: int
    match_weight: float  # generator's text-image matching term (0 = the book's losses only)
    text_every_scale: bool  # generator: text code at every upsampling block (model.ModelConfig)
    text_projection: bool  # discriminator: projection term on the logit (model.ModelConfig)
    text_pool: str  # text vector: "last" LSTM state (the book), "mean" over the words or "phrase" (model.PhraseMean)
    text_slots: int  # generator: 0 = one tiled text code; K = K codes mixed per position (model.SlotMix)
    mode_seeking_weight: float  # generator: MSGAN's diversity term over pairs of z per caption (0 = off; model.mode_seeking_loss)
    colour_weight: float  # D's colour heads (TAC-GAN's auxiliary classifier) and G's term on them (0 = off; model.colour_loss)
    lr_d: float  # discriminator learning rate (two time-scale: lr is the generator's and the encoders')
    ema_decay: float  # exported generator = running average of the trained one's weights (0 = off; loop.Trainer)
    lr: float
    beta1: float
    judge_epochs: int  # attribute classifier on the real renders
    judge_images: int  # its own renders of every colour combination (seed + 11; never the test images)
    eval_captions: int  # held-out captions generated for the colour accuracies
    log_every: int
    jit_compile: bool = False  # XLA-compiled GAN step (loop.Trainer): same losses, fewer CPU-seconds per step
    hard_negatives: float = 0.0  # share of wrong captions that are the right one with one colour word swapped (loop.Batches)
    code_at_input: bool = True  # G: the text code next to z at the 4x4 input (False: the text only through the slots; model.build_generator)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_options(self, **options: str) -> "Preset":
        """Apply `servectl train --set key=value` overrides, converted to the field's type."""
        fields = self.to_dict()
        typed: dict[str, Any] = {}
        for key, value in options.items():
            if key not in fields:
                raise KeyError(f"unknown text2image option {key!r}; known: {', '.join(sorted(fields))}")
            typed[key] = _as_bool(key, value) if isinstance(fields[key], bool) else type(fields[key])(value)
        return replace(self, **typed)


def _as_bool(key: str, value: Any) -> bool:
    """`bool("false")` is True, so booleans are spelled out."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"text2image option {key} must be true or false, got {value!r}")


PRESETS: dict[str, Preset] = {
    # tiny conditions its generator on 2 text slots mixed per position (model.SlotMix): with the LSTM encoder of
    # that time, held-out petal colours 0.77-0.87 over two seeds and three checkpoints, against 0.58-0.81 with one
    # tiled code (docs/text2image.md, "Sixth round"). The book's sizes keep the
    # book's last-state encoder and tiled code (unmeasured at that size).
    # tiny's generator is 16 wide and its discriminator 8: at 8/8 the held-out centre colours stayed at chance
    # (0.22); at 16/8 they were 0.29-0.48 over three runs, with petal colours unchanged (docs/text2image.md,
    # "Fifth round"). 16/16 let D win and lowered the petal figure.
    # tiny reads the caption without recurrence (text_pool="phrase": local phrase features averaged) and gives its
    # generator z alone at 4x4 (code_at_input=False: the text only through the two slots): on unseen (petal, centre)
    # pairs the LSTM's codes were unfamiliar (held-out centre 0.43) and the whole caption at 4x4 let the centre word
    # repaint the petals (petal 0.80 when the caption names the centre); together, held-out petal 0.913, centre 0.768,
    # Fréchet ratio 2.61 (docs/text2image.md, "Twelfth round"). jit_compile: the same step in XLA, fewer CPU-seconds.
    # tiny trains 2,400 GAN steps: at 1,200 the same networks met the four targets too (gateway: petal 0.916, centre
    # 0.807) but drew coloured blobs; at 2,400 the petals separate (petal 0.927, centre 0.831; "Twelfth round").
    # tiny's judge learns from 5,600 renders: from 2,800 it read the centres of real held-out renders at 0.943 (seed 12),
    # under the 0.97 an instrument needs; from 5,600, 0.994 (seeds 12 and 13: 0.994, 0.989; "Twelfth round").
    # tiny's mode-seeking term and colour heads (weights 1) ended the collapse (diversity ratio 0.13 -> 1.13) and
    # took held-out centre colours from 0.185 to 0.447 (docs/text2image.md, "Seventh round").
    "tiny": Preset(
        name="tiny", n_train=2100, n_val=210, n_test=350, seed=12,
        embed_dim=64, text_dim=128, code_dim=64, z_dim=16, gf_dim=16, df_dim=8, batch=32,
        encoder_steps=300, gan_steps=2400, match_weight=3.0, text_every_scale=True, text_projection=True, text_pool="phrase", text_slots=2, mode_seeking_weight=1.0, colour_weight=1.0, lr_d=2e-4, ema_decay=0.999, lr=2e-4, beta1=0.5, judge_epochs=8, judge_images=5600, eval_captions=700, log_every=50,
        jit_compile=True, code_at_input=False,
    ),
    "book": Preset(
        name="book", n_train=8000, n_val=800, n_test=1400, seed=12,
        embed_dim=256, text_dim=128, code_dim=128, z_dim=512, gf_dim=128, df_dim=64, batch=64,
        encoder_steps=6000, gan_steps=60000, match_weight=0.0, text_every_scale=True, text_projection=True, text_pool="last", text_slots=0, mode_seeking_weight=0.0, colour_weight=0.0, lr_d=2e-4, ema_decay=0.999, lr=2e-4, beta1=0.5, judge_epochs=10, judge_images=5600, eval_captions=3500, log_every=200,
    ),
}
