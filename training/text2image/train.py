"""`servectl train text2image`: procedural flowers -> text encoder -> GAN-CLS -> held-out evaluation -> publish.

Options (`--set key=value`) override any field of the preset (`presets.Preset`), e.g. `--set gan_steps=300`.
`--data` is not used: the data set is generated from the preset's seed (its hash is in the manifest).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from common import manifest as mf
from common.captions import MAX_TOKENS, VOCAB_ASSET, Vocabulary, pad_batch
from common.repository import default_repository
from training.export import ExportSpec, Published, publish
from training.registry import TrainingFamily, register
from training.text2image import flowers
from training.text2image.presets import PRESETS, Preset

if TYPE_CHECKING:  # TensorFlow loads only when a job runs
    from training.text2image.loop import Batches, Trainer
    from training.text2image.model import ModelConfig

log = logging.getLogger(__name__)


def _logdir(repo: Path) -> Path:
    root = Path(os.environ.get("TENSORBOARD_DIR", repo.resolve().parent / "runs"))
    return root / "text2image" / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def build_trainer(p: Preset, train_set: flowers.FlowerSet, vocab: Vocabulary) -> tuple[ModelConfig, Trainer, Batches]:
    """The networks, optimisers and batch stream a preset trains with, seeded; `train()` and the read-out
    probes (scripts/t2i_text_probe.py) build them here so that a probe sees every option the job does."""
    import keras

    from training.text2image.loop import Batches, Trainer
    from training.text2image.model import ModelConfig

    keras.utils.set_random_seed(p.seed)
    cfg = ModelConfig(
        vocab_size=len(vocab), embed_dim=p.embed_dim, text_dim=p.text_dim, code_dim=p.code_dim,
        z_dim=p.z_dim, gf_dim=p.gf_dim, df_dim=p.df_dim,
        text_every_scale=p.text_every_scale, text_projection=p.text_projection, text_pool=p.text_pool, text_slots=p.text_slots,
        colour_heads=(len(flowers.PETAL_NAMES), len(flowers.CENTRE_NAMES)) if p.colour_weight else (),
        code_at_input=p.code_at_input,
    )
    trainer = Trainer(cfg, p.lr, p.beta1, p.match_weight, p.ema_decay, p.mode_seeking_weight, p.colour_weight, p.lr_d, p.jit_compile)
    return cfg, trainer, Batches(train_set, vocab, p.batch, p.seed, p.hard_negatives)


def train(*, preset: str = "tiny", data: Path | None = None, repo: Path | None = None, **options: Any) -> Published:
    import tensorflow as tf

    from training.text2image import evaluate as ev
    from training.text2image.loop import to_unit
    from training.text2image.serving import Text2ImageModule, write_savedmodel

    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    p: Preset = PRESETS[preset].with_options(**options)
    repo = Path(repo or default_repository())
    if data is not None:
        log.warning("text2image generates its data from the preset seed; --data %s is ignored", data)
    started = time.time()
    split = flowers.make_split(p.n_train, p.n_val, p.n_test, p.seed)
    vocab = Vocabulary.build(c for caps in split.train.captions for c in caps)
    writer = tf.summary.create_file_writer(str(_logdir(repo)))
    cfg, trainer, batches = build_trainer(p, split.train, vocab)
    enc_loss = trainer.train_encoders(batches, p.encoder_steps, writer, p.log_every)
    gan_losses = trainer.train_gan(batches, p.gan_steps, p.seed + 7, writer, p.log_every)
    train_seconds = time.time() - started

    module = Text2ImageModule(trainer.text_encoder, trainer.export_generator, cfg.z_dim)

    def generate(ids: np.ndarray, z: np.ndarray) -> np.ndarray:
        return module.serve(tf.constant(ids), tf.constant(z))["images"].numpy()

    # The judge is a measuring instrument, not part of the model: it learns to read petal and centre colours
    # from its own renders of EVERY combination (a separate seed, so never the test images). Trained on the
    # generator's training combinations only, it misread real renders of the held-out ones (0.81 petal
    # accuracy, 2026-11-26), which capped what the metric could credit.
    judge_set = ev.judge_renders(p.judge_images, p.seed)
    judge = ev.train_judge(judge_set, p.judge_epochs, p.seed)
    truth = ev.eval_captions(split.test, p.eval_captions, p.seed + 3)
    generated = ev.generate_for_captions(generate, vocab, [t[0] for t in truth], cfg.z_dim, p.seed + 4)
    histogram_judge = ev.HistogramJudge(judge_set.images, judge_set.petal_idx)
    metrics: dict[str, Any] = {
        "held_out": ev.colour_accuracy(generated, truth, judge, histogram_judge),
        "histogram_judge_real_test_petal_accuracy": histogram_judge.petal_accuracy(split.test.images, split.test.petal_idx),
        "chance_petal_colour_accuracy": 1 / len(flowers.PETAL_NAMES),
        "chance_centre_colour_accuracy": 1 / len(flowers.CENTRE_NAMES),
        "judge_training": f"{p.judge_images} renders of all {len(flowers.all_combinations())} colour combinations (seed {p.seed + ev.JUDGE_SEED_OFFSET}), {p.judge_epochs} epochs",
        **ev.judge_metrics(judge, split.val, "judge_real_val"),
        **ev.judge_metrics(judge, split.test, "judge_real_test"),
        **ev.diversity(generate, vocab, split.test, cfg.z_dim, p.seed + 5),
        **ev.frechet(judge, generate, vocab, split.test, cfg.z_dim, p.seed, p.seed + 6),
        **ev.retrieval(trainer.text_encoder, trainer.image_encoder, vocab, split.test, to_unit),
        "final_losses": {"encoder_hinge": enc_loss, **gan_losses},
        "train_seconds": round(train_seconds, 1),
    }
    log.info("text2image metrics: %s", metrics)

    warm_ids = pad_batch([vocab.encode(c).ids for c in ("the petals on this flower are red with a yellow center", "a flower with blue petals")])
    warm_z = np.random.Generator(np.random.PCG64(0)).standard_normal((2, cfg.z_dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        judge_path = Path(tmp) / ev.JUDGE_ASSET
        judge.save(judge_path)
        spec = ExportSpec(
            model="text2image",
            family="text2image",
            preset=p.name,
            write_savedmodel=lambda d: write_savedmodel(module, d),
            warmup_inputs={"caption_ids": warm_ids, "z": warm_z},
            training_data_hash=mf.hash_bytes(split.train.digest().encode(), split.test.digest().encode()),
            metrics=metrics,
            preprocessing={
                "tokeniser": "common.captions (lower-case, non-alphanumerics to spaces, words; <PAD>=0 <UNK>=1 <END>=2 appended)",
                "vocabulary_asset": VOCAB_ASSET,
                "vocabulary_size": len(vocab),
                "max_tokens": MAX_TOKENS,
                "z_dim": cfg.z_dim,
                "z_distribution": "standard normal",
                "image_range": [-1.0, 1.0],
            },
            assets={VOCAB_ASSET: vocab.to_text().encode(), ev.JUDGE_ASSET: judge_path},
            extra={
                "hyperparameters": p.to_dict(),
                "data": {
                    "generator": "training.text2image.flowers",
                    "seed": p.seed,
                    "n_train": p.n_train,
                    "n_val": p.n_val,
                    "n_test": p.n_test,
                    "held_out_combinations": sorted(flowers.HELD_OUT_COMBINATIONS),
                    "petal_colours": list(flowers.PETAL_NAMES),
                    "centre_colours": list(flowers.CENTRE_NAMES),
                },
                "signatures_extra": ["interpolate"],
            },
        )
        published = publish(spec, repo)
    log.info("published text2image version %s (%.0f s)", published.version, time.time() - started)
    return published


register(
    TrainingFamily(
        "text2image",
        ("text2image",),
        train,
        options={k: f"override preset field {k}" for k in PRESETS["tiny"].to_dict() if k != "name"},
    )
)
