"""The exported servable: ONE SavedModel holding the text encoder and the generator.

`serving_default(caption_ids int64 [B, L] (0 = padding), z float32 [B, Z]) -> {"images": float32 [B, 64, 64, 3]
in [-1, 1]}` (docs/design.md §3). Keeping the text encoder inside the graph means the gateway only tokenises
(`common.captions`) and the text vectors can never drift from the generator they were trained with.

A second signature, `interpolate`, adds `caption_ids_b` and `alpha` float32 [B]: the generator sees
(1 - alpha) * text(a) + alpha * text(b), the book's interpolation between two sentences with z fixed.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

INTERPOLATE_KEY = "interpolate"


class Text2ImageModule:
    """The two endpoints as plain functions over the trained Keras models (also callable in-process)."""

    def __init__(self, text_encoder: keras.Model, generator: keras.Model, z_dim: int) -> None:
        self.text_encoder = text_encoder
        self.generator = generator
        self.ids_spec = tf.TensorSpec([None, None], tf.int64, name="caption_ids")
        self.z_spec = tf.TensorSpec([None, z_dim], tf.float32, name="z")
        self.serve = tf.function(self._serve, input_signature=[self.ids_spec, self.z_spec])
        self.interpolate = tf.function(self._interpolate, input_signature=self.interpolate_signature)

    @property
    def interpolate_signature(self) -> list[tf.TensorSpec]:
        return [self.ids_spec, tf.TensorSpec([None, None], tf.int64, name="caption_ids_b"), tf.TensorSpec([None], tf.float32, name="alpha"), self.z_spec]

    def _serve(self, caption_ids: tf.Tensor, z: tf.Tensor) -> dict[str, tf.Tensor]:
        text = self.text_encoder(caption_ids, training=False)
        return {"images": self.generator([text, z], training=False)}

    def _interpolate(self, caption_ids: tf.Tensor, caption_ids_b: tf.Tensor, alpha: tf.Tensor, z: tf.Tensor) -> dict[str, tf.Tensor]:
        a = self.text_encoder(caption_ids, training=False)
        b = self.text_encoder(caption_ids_b, training=False)
        w = alpha[:, None]
        return {"images": self.generator([(1.0 - w) * a + w * b, z], training=False)}


def write_savedmodel(module: Text2ImageModule, directory: Path) -> None:
    """Keras 3's ExportArchive, not `tf.saved_model.save` on a tf.Module: with the latter, Keras 3 variables
    are written twice and the functions read copies that a TF1-style Session load (TF Serving, our
    modelserver) leaves uninitialised ("Could not find variable ..."); ExportArchive's graph loads both ways."""
    archive = keras.export.ExportArchive()
    archive.track(module.text_encoder)
    archive.track(module.generator)
    archive.add_endpoint("serving_default", module._serve, input_signature=[module.ids_spec, module.z_spec])
    archive.add_endpoint(INTERPOLATE_KEY, module._interpolate, input_signature=module.interpolate_signature)
    archive.write_out(str(directory), verbose=False)
