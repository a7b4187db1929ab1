"""`servectl train srgan`: MSE pre-training, then adversarial training, held-out evaluation, export.

Phases (book chapter 13):
1. MSE pre-training of the generator (`mse_steps`), the PSNR-oriented SRResNet.
2. Adversarial phase (`gan_steps`): generator loss = MSE + 1e-3 x adversarial (+ 2e-6 x VGG19 pool4 feature
   MSE, only when the user gives VGG19 weights with `--set vgg19_weights=PATH`; code never downloads
   weights, so without a path the perceptual term is omitted and the manifest records that).
Both phases' generators are evaluated on the fixed held-out photos against bicubic; `--set export_phase=mse|gan`
picks the one exported (default `gan`, the book's model; `mse` is the PSNR-optimal one).

Options (`--set k=v`): export_phase, vgg19_weights, seed, mse_steps, gan_steps, logdir.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import superres as sr
from training.export import ExportSpec, Published, keras_writer, publish
from training.registry import TrainingFamily, register
from training.srgan import data as srdata
from training.srgan import evaluate as ev
from training.srgan.presets import PRESETS, Preset

PHASES = ("mse", "gan")


def receptive_radius(preset: Preset) -> int:
    """LR pixels on each side that influence one output pixel: head conv 1, 2 per block, body conv 1,
    first up conv 1, second up conv 1/2 (it runs at 2x). The gateway keeps tile margins at least this wide,
    so tiled and whole-image results agree."""
    return int(np.ceil(1 + 2 * preset.blocks + 1 + 1 + 0.5))


def _load_extra_photos(data: Path | None) -> dict[str, np.ndarray]:
    """Optional extra training photos (*.png, *.jpg) from `--data DIR`; the held-out set stays fixed."""
    if data is None:
        return {}
    from PIL import Image

    photos = {}
    for p in sorted(Path(data).iterdir()):
        if p.suffix.lower() in (".png", ".jpg", ".jpeg"):
            with Image.open(p) as im:
                photos[f"extra/{p.name}"] = np.asarray(im.convert("RGB"))
    if not photos:
        raise ValueError(f"{data}: no *.png / *.jpg photos found")
    return photos


def _vgg_features(weights: Path):
    """VGG19 up to pool4 (block4_pool) from a user-given weights file, for the perceptual term."""
    import keras

    if not Path(weights).is_file():
        raise FileNotFoundError(f"vgg19_weights={weights}: no such file (Keras VGG19 no-top .h5 weights expected)")
    vgg = keras.applications.VGG19(include_top=False, weights=str(weights), input_shape=(None, None, 3))
    vgg.trainable = False
    features = keras.Model(vgg.input, vgg.get_layer("block4_pool").output, name="vgg19_pool4")

    def embed(x):  # x in [-1, 1] RGB -> caffe-style BGR mean-subtracted, as Keras' VGG19 expects
        return features(keras.applications.vgg19.preprocess_input((x + 1.0) * 127.5), training=False)

    return embed


def _scalar(name: str, value: Any, step: int) -> None:
    """A TensorBoard scalar without the `tensorboard` package (not installed here): `tf.summary.write`
    with the scalars plugin's metadata, which is what `tf.summary.scalar` writes."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(name, tf.cast(value, tf.float32), step=step, metadata=meta.SerializeToString())


def train(
    preset: str = "tiny",
    data: Path | None = None,
    repo: Path | None = None,
    export_phase: str = "gan",
    vgg19_weights: str | None = None,
    seed: str | int = 0,
    mse_steps: str | int | None = None,
    gan_steps: str | int | None = None,
    logdir: str | None = None,
    eval_every: str | int = 0,
    **unknown: Any,
) -> Published:
    if unknown:
        raise ValueError(f"unknown srgan option(s) {sorted(unknown)}; known: {', '.join(OPTIONS)}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    if export_phase not in PHASES:
        raise ValueError(f"export_phase={export_phase!r}; accepted: mse, gan")
    cfg = PRESETS[preset]
    n_mse = cfg.mse_steps if mse_steps is None else int(mse_steps)
    n_gan = cfg.gan_steps if gan_steps is None else int(gan_steps)
    seed, eval_every = int(seed), int(eval_every)
    started = time.monotonic()

    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    import keras
    import tensorflow as tf
    from tqdm import tqdm

    from training.srgan.model import build_discriminator, build_generator

    keras.utils.set_random_seed(seed)
    train_images = {**srdata.load(srdata.TRAIN), **_load_extra_photos(data)}
    pairs = srdata.held_out_pairs()
    sampler = srdata.CropSampler(train_images, cfg.lr_patch, seed=seed)
    vgg = _vgg_features(Path(vgg19_weights)) if vgg19_weights else None

    gen, disc = build_generator(cfg), build_discriminator(cfg)
    g_opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(cfg.learning_rate, max(n_mse, 1), alpha=0.1))
    g_gan_opt = keras.optimizers.Adam(cfg.gan_learning_rate, beta_1=0.9)
    d_opt = keras.optimizers.Adam(cfg.gan_learning_rate, beta_1=0.9)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    if logdir is None:
        base = Path(repo).resolve().parent if repo else Path(__file__).resolve().parents[2]
        logdir = str(base / "runs" / "srgan" / _dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    writer = tf.summary.create_file_writer(logdir)

    @tf.function(reduce_retracing=True)
    def mse_step(lr, hr):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(gen(lr, training=True) - hr))
        g_opt.apply_gradients(zip(tape.gradient(loss, gen.trainable_variables), gen.trainable_variables))
        return loss

    @tf.function(reduce_retracing=True)
    def gan_step(lr, hr):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = gen(lr, training=True)
            d_real, d_fake = disc(hr, training=True), disc(fake, training=True)
            d_loss = bce(tf.ones_like(d_real), d_real) + bce(tf.zeros_like(d_fake), d_fake)
            mse = tf.reduce_mean(tf.square(fake - hr))
            adv = bce(tf.ones_like(d_fake), d_fake)
            g_loss = mse + cfg.adversarial_weight * adv
            if vgg is not None:
                g_loss += cfg.vgg_weight * tf.reduce_mean(tf.square(vgg(fake) - vgg(hr)))
        g_gan_opt.apply_gradients(zip(g_tape.gradient(g_loss, gen.trainable_variables), gen.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
        return mse, adv, d_loss

    infer = tf.function(lambda x: gen(x, training=False), input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])

    def upscale(lr: np.ndarray) -> np.ndarray:
        return sr.from_model_range(infer(sr.to_model_range(lr)[None]).numpy()[0])

    baseline = ev.bicubic_baseline(pairs)

    def _progress_eval(phase: str, step: int) -> None:
        """Held-out PSNR during training, for the curve only (never used to pick a checkpoint)."""
        value = ev.evaluate(upscale, pairs)["mean"]["psnr_rgb"]
        _scalar(f"eval/{phase}_psnr_rgb_progress", value, step=step)
        tqdm.write(f"step {step} ({phase}): held-out PSNR RGB {value:.3f} dB (bicubic {baseline['mean']['psnr_rgb']:.3f}) "
                   f"at {time.monotonic() - started:.0f}s")
    with writer.as_default():
        for step in tqdm(range(n_mse), desc="srgan mse", unit="step"):
            loss = mse_step(*sampler.batch(cfg.batch))
            if step % 50 == 0:
                _scalar("mse/loss", loss, step=step)
            if eval_every and (step + 1) % eval_every == 0:
                _progress_eval("mse", step + 1)
        mse_result = ev.evaluate(upscale, pairs)
        mse_weights = gen.get_weights()
        _scalar("eval/mse_phase_psnr_rgb", mse_result["mean"]["psnr_rgb"], step=n_mse)
        for step in tqdm(range(n_gan), desc="srgan gan", unit="step"):
            mse, adv, d_loss = gan_step(*sampler.batch(cfg.batch))
            if eval_every and (step + 1) % eval_every == 0:
                _progress_eval("gan", n_mse + step + 1)
            if step % 50 == 0:
                for name, value in (("gan/mse", mse), ("gan/adversarial", adv), ("gan/d_loss", d_loss)):
                    _scalar(name, value, step=n_mse + step)
        gan_result = ev.evaluate(upscale, pairs) if n_gan else mse_result
        _scalar("eval/gan_phase_psnr_rgb", gan_result["mean"]["psnr_rgb"], step=n_mse + n_gan)
    writer.flush()

    if export_phase == "mse":
        gen.set_weights(mse_weights)
    exported = mse_result if export_phase == "mse" else gan_result
    train_seconds = round(time.monotonic() - started, 1)
    metrics = {
        "held_out": list(srdata.HELD_OUT),
        "border_crop": sr.SCALE,
        "bicubic": baseline,
        "mse_phase": mse_result,
        "gan_phase": gan_result,
        "exported_phase": export_phase,
        "exported": exported["mean"],
        "psnr_rgb_gain_over_bicubic": ev.gain(exported, baseline),
        "train_seconds": train_seconds,
    }
    print(
        f"held-out PSNR RGB: bicubic {baseline['mean']['psnr_rgb']:.2f}  mse {mse_result['mean']['psnr_rgb']:.2f}  "
        f"gan {gan_result['mean']['psnr_rgb']:.2f}  (exported: {export_phase}, {train_seconds}s)"
    )

    write = keras_writer(gen, {"serving_default": (
        lambda images: {"images": gen(images, training=False)},
        [tf.TensorSpec([None, None, None, 3], tf.float32, name="images")],
    )})

    warm = sr.to_model_range(np.stack([p.lr[:32, :32] for p in pairs[:2]]))
    spec = ExportSpec(
        model="srgan",
        family="srgan",
        preset=preset,
        write_savedmodel=write,
        warmup_inputs={"images": warm},
        training_data_hash=srdata.data_hash(train_images),
        metrics=metrics,
        preprocessing={
            "scale": sr.SCALE,
            "input_range": [-1.0, 1.0],
            "bicubic": sr.BICUBIC_NAME,
            "receptive_radius_lr": receptive_radius(cfg),
        },
        extra={
            "training": {
                "preset": cfg.as_dict(),
                "mse_steps": n_mse,
                "gan_steps": n_gan,
                "seed": seed,
                "train_images": sorted(train_images),
                "logdir": logdir,
            },
            "perceptual_loss": (
                f"VGG19 block4_pool feature MSE (weight {cfg.vgg_weight}) from {vgg19_weights}"
                if vgg19_weights
                else "omitted: no VGG19 weights given (--set vgg19_weights=PATH); generator loss = MSE + "
                f"{cfg.adversarial_weight} x adversarial"
            ),
        },
    )
    return publish(spec, repo)


OPTIONS = {
    "export_phase": "which generator to export: gan (default, the book's) or mse (PSNR-optimal pre-training)",
    "vgg19_weights": "path to Keras VGG19 no-top .h5 weights; enables the VGG19 pool4 perceptual term",
    "seed": "random seed (default 0)",
    "mse_steps": "override the preset's MSE pre-training steps",
    "gan_steps": "override the preset's adversarial steps",
    "logdir": "TensorBoard log directory (default <repo>/../runs/srgan/<time>)",
    "eval_every": "also print/log held-out PSNR every N steps (a learning curve; 0 = off)",
}

register(TrainingFamily("srgan", ("srgan",), train, OPTIONS))
