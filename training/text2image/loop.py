"""The two training phases of GAN-CLS as in chapter 12.

1. Text encoder + image encoder with the matching-aware cosine hinge loss (the book's `rnn_loss`), so that
   captions of the same flower land near that flower's image vector.
2. GAN-CLS: the discriminator learns real/right -> real, real/wrong-caption -> fake, fake/right -> fake;
   the generator learns to make fake/right look real. The text encoder is frozen in this phase (the book
   keeps updating it with the hinge loss for the first epochs; on CPU the pre-trained encoder is enough
   and halves the cost of a step). With `match_weight` > 0 the generator also gets a text-image matching
   term from the frozen image encoder (`model.matching_loss`; not in the book, see its docstring). With
   `ema_decay` > 0 a running average of the generator's weights is kept, and that is what gets evaluated
   and exported (`Trainer.export_generator`). `mode_seeking_weight` and `colour_weight` add MSGAN's
   diversity term and TAC-GAN's colour heads (`model.mode_seeking_loss`, `model.colour_loss`).

Batches come from `Batches`, a seeded sampler over the training images and their 10 captions; "wrong"
captions and images are those of another image of the same batch (a roll by one after shuffling).
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from common.captions import Vocabulary, pad_batch
from training.text2image import model as M
from training.text2image.flowers import CENTRE_NAMES, PETAL_NAMES, FlowerSet, caption_mentions_centre


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1] (the generator's tanh range)."""
    return images.astype(np.float32) / 127.5 - 1.0


def encode_captions(vocab: Vocabulary, captions: list[str]) -> np.ndarray:
    return pad_batch([vocab.encode(c).ids for c in captions])


class Batches:
    """Seeded random batches of (images, right caption ids, wrong caption ids, wrong images), and the colour
    labels the captions name (`last_labels`, for the discriminator's colour heads)."""

    def __init__(self, data: FlowerSet, vocab: Vocabulary, batch: int, seed: int, hard_negatives: float = 0.0) -> None:
        self.images = to_unit(data.images)
        self.hard_negatives = hard_negatives
        self.colour_ids = np.array(sorted({vocab.encode(c).ids[0] for c in (*PETAL_NAMES, *CENTRE_NAMES)}), np.int64)
        flat = [c for caps in data.captions for c in caps]
        self.ids = encode_captions(vocab, flat).reshape(len(data), len(data.captions[0]), -1)
        self.is_colour = np.isin(self.ids, self.colour_ids)  # where each caption names a colour
        # the centre label of a caption that does not name the centre colour is unknown (-1)
        names_centre = np.array([[caption_mentions_centre(c, a) for c in caps] for caps, a in zip(data.captions, data.attributes)])
        self.petal = np.asarray(data.petal_idx, np.int32)
        self.image_centre = np.asarray(data.centre_idx, np.int32)
        self.centre = np.where(names_centre, np.asarray(data.centre_idx)[:, None], -1).astype(np.int32)
        self.batch = batch
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.last_labels: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def next(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        idx = self.rng.choice(len(self.images), self.batch, replace=False)
        cap = self.rng.integers(self.ids.shape[1], size=self.batch)
        images = self.images[idx]
        flip = self.rng.random(self.batch) < 0.5  # left-right flip: same caption, more renders
        images = np.where(flip[:, None, None, None], images[:, :, ::-1], images)
        right = self.ids[idx, cap]
        wrong_idx = np.roll(idx, 1)
        wrong = self.ids[wrong_idx, self.rng.integers(self.ids.shape[1], size=self.batch)]
        if self.hard_negatives:
            swap = self.rng.random(self.batch) < self.hard_negatives
            wrong = np.where(swap[:, None], self._swap_colour(right, self.is_colour[idx, cap]), wrong)
        # (petal, centre of the image) for D's real images, and the centre as the caption names it for G
        self.last_labels = (self.petal[idx], self.image_centre[idx], self.centre[idx, cap])
        return images, right, wrong, np.roll(images, 1, axis=0)

    def _swap_colour(self, ids: np.ndarray, is_colour: np.ndarray) -> np.ndarray:
        """Each caption with one of its colour words replaced by another colour: a wrong caption that differs
        from the right one in a single attribute, so matching it needs that attribute bound to its part."""
        out = ids.copy()
        for row, colour in zip(out, is_colour):
            where = np.flatnonzero(colour)
            if len(where):
                at = where[self.rng.integers(len(where))]
                others = self.colour_ids[self.colour_ids != row[at]]
                row[at] = others[self.rng.integers(len(others))]
        return out


def scalar(name: str, value: float, step: int) -> None:
    """A TensorBoard scalar without the `tensorboard` package (not installed here): core `tf.summary.write`
    with the scalars plugin's metadata, which is what `tf.summary.scalar` would write."""
    from tensorflow.core.framework import summary_pb2

    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(name, tf.constant(value, tf.float32), step=step, metadata=meta.SerializeToString())


class Trainer:
    def __init__(
        self, cfg: M.ModelConfig, lr: float, beta1: float, match_weight: float = 0.0, ema_decay: float = 0.0,
        mode_seeking_weight: float = 0.0, colour_weight: float = 0.0, lr_d: float | None = None, jit_compile: bool = False,
    ) -> None:
        self.cfg = cfg
        self.match_weight = match_weight
        self.ema_decay = ema_decay
        self.mode_seeking_weight = mode_seeking_weight
        self.colour_weight = colour_weight
        if colour_weight and not cfg.colour_heads:
            raise ValueError("colour_weight > 0 needs a discriminator with colour heads (ModelConfig.colour_heads)")
        self.text_encoder = M.build_text_encoder(cfg)
        self.image_encoder = M.build_image_encoder(cfg)
        self.generator = M.build_generator(cfg)
        self.discriminator = M.build_discriminator(cfg)
        # Why an averaged generator: the adversarial game oscillates, and on the tiny preset the held-out
        # petal-colour accuracy of the raw generator swung between 0.58 and 0.72 from one 600-step
        # checkpoint to the next (2026-11-27). The running average of its weights (ProGAN/BigGAN practice)
        # is what gets evaluated and exported; the raw generator keeps training against D.
        self.generator_ema = None
        if ema_decay:
            self.generator_ema = keras.models.clone_model(self.generator)
            self.generator_ema.set_weights(self.generator.get_weights())
        self.opt_enc = tf.keras.optimizers.Adam(lr, beta_1=beta1)
        self.opt_g = tf.keras.optimizers.Adam(lr, beta_1=beta1)
        self.opt_d = tf.keras.optimizers.Adam(lr if lr_d is None else lr_d, beta_1=beta1)
        # Why XLA for the GAN step (`jit_compile`): at tiny's sizes the step is many small ops, and their
        # dispatch, not the arithmetic, dominated (docs/text2image.md, "Eighth round").
        # Both steps are compiled the same way, here, so that one place says how (the GAN step's XLA flag is a
        # constructor argument, which a decorator could not read).
        self.encoder_step = tf.function(self._encoder_step, reduce_retracing=True)
        self.gan_step = tf.function(self._gan_step, reduce_retracing=True, jit_compile=jit_compile)

    def _encoder_step(self, images, right, wrong, wrong_images):
        with tf.GradientTape() as tape:
            t = self.text_encoder(right, training=True)
            tw = self.text_encoder(wrong, training=True)
            v = self.image_encoder(images, training=True)
            vw = self.image_encoder(wrong_images, training=True)
            loss = M.cosine_hinge_loss(t, v, tw, vw)
        variables = self.text_encoder.trainable_variables + self.image_encoder.trainable_variables
        self.opt_enc.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def _discriminate(self, images, text):
        """D's outputs as (logit, colour head logits or ())."""
        out = self.discriminator([images, text], training=True)
        return (out[0], tuple(out[1:])) if self.cfg.colour_heads else (out, ())

    def _gan_step(self, images, right, wrong, z, petal, image_centre, caption_centre):
        """One D update, then one G update against the updated D, from ONE generator forward pass (the fake
        batch is kept on G's tape while D trains on it with its gradient stopped; the previous step ran G
        twice, which was a third of the step's time at tiny's sizes).

        With `mode_seeking_weight`, the second half of the fake batch repeats the first half's captions with
        other z, so every step holds 16 (caption, z, z') pairs for the mode-seeking term at no extra cost."""
        t = self.text_encoder(right, training=False)
        tw = self.text_encoder(wrong, training=False)
        t_fake, tw_fake, petal_fake, centre_fake = t, tw, petal, caption_centre
        if self.mode_seeking_weight:
            h = tf.shape(t)[0] // 2
            pair = lambda x: tf.concat([x[:h], x[:h]], 0)  # noqa: E731
            t_fake, tw_fake, petal_fake, centre_fake = pair(t), pair(tw), pair(petal), pair(caption_centre)
        with tf.GradientTape() as g_tape:
            fake = self.generator([t_fake, z], training=True)
            with tf.GradientTape() as d_tape:
                d_real, heads_real = self._discriminate(images, t)
                d_wrong, _ = self._discriminate(images, tw)
                d_fake, _ = self._discriminate(tf.stop_gradient(fake), t_fake)
                d_loss = M.discriminator_loss(d_real, d_wrong, d_fake)
                if self.colour_weight:  # the heads learn the colours from real images only
                    d_loss += self.colour_weight * (M.colour_loss(heads_real[0], petal) + M.colour_loss(heads_real[1], image_centre))
            d_vars = self.discriminator.trainable_variables
            self.opt_d.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
            g_logit, heads_fake = self._discriminate(fake, t_fake)
            adversarial = M.generator_loss(g_logit)
            match = M.matching_loss(self.image_encoder(fake, training=False), t_fake, tw_fake)
            g_loss = adversarial
            if self.match_weight:  # Python branches, fixed when the step is traced
                g_loss += self.match_weight * match
            seeking = tf.constant(0.0)
            if self.mode_seeking_weight:
                seeking = M.mode_seeking_loss(fake[:h], fake[h:], z[:h], z[h:])
                g_loss += self.mode_seeking_weight * seeking
            colour = tf.constant(0.0)
            if self.colour_weight:
                colour = M.colour_loss(heads_fake[0], petal_fake) + M.colour_loss(heads_fake[1], centre_fake)
                g_loss += self.colour_weight * colour
        g_vars = self.generator.trainable_variables
        self.opt_g.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        if self.generator_ema is not None:
            self._update_ema()
        return d_loss, adversarial, match, seeking, colour

    def _update_ema(self) -> None:
        """ema <- d * ema + (1 - d) * weights, BatchNorm statistics included. d = (1 + step) / (10 + step),
        capped at `ema_decay`, starts near 0.2, so the average does not drag the random initial weights
        along for the first thousand steps."""
        step = tf.cast(self.opt_g.iterations, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for avg, w in zip(self.generator_ema.weights, self.generator.weights):
            avg.assign(decay * avg + (1.0 - decay) * w)

    @property
    def export_generator(self) -> keras.Model:
        """The generator that is evaluated and served: the weight average when one is kept."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def train_encoders(self, batches: Batches, steps: int, writer, log_every: int) -> float:
        loss = float("nan")
        for step in tqdm(range(steps), desc="text encoder", unit="step", mininterval=5):
            loss = float(self.encoder_step(*batches.next()))
            if step % log_every == 0:
                with writer.as_default():
                    scalar("encoder/hinge_loss", loss, step=step)
        return loss

    def train_gan(self, batches: Batches, steps: int, seed: int, writer, log_every: int, callback: Callable[[int], None] | None = None) -> dict[str, float]:
        """Returns the last logged losses: d, g (adversarial part), and the unweighted match, mode-seeking and
        colour terms (match is measured even at weight 0, so runs compare; the other two are 0 when off).
        `callback(step)` runs after every step (probes evaluate checkpoints with it)."""
        rng = np.random.Generator(np.random.PCG64(seed))
        names = ("d", "g", "match", "mode_seeking", "colour")
        last = {k: float("nan") for k in names}
        for step in tqdm(range(steps), desc="GAN-CLS", unit="step", mininterval=5):
            images, right, wrong, _ = batches.next()
            z = rng.standard_normal((batches.batch, self.cfg.z_dim)).astype(np.float32)
            losses = self.gan_step(images, right, wrong, z, *batches.last_labels)
            if callback is not None:
                callback(step + 1)
            if step % log_every == 0:
                last = dict(zip(names, (float(x) for x in losses)))
                with writer.as_default():
                    for name, value in last.items():
                        scalar(f"gan/{name}_loss", value, step=step)
        return last
