"""A test-only family whose asset and graph both encode their version ("tag"), so a test can check that no
response ever mixes one version's assets with another version's graph.

Graph (built in the test, published with `training.export.publish`): y = x + tag * 1000; if min(x) is below
-1e6 the graph first spins `-min(x) - 1e6` loop iterations (a deterministic slow request for deadline tests).
A value >= 1e30 makes the graph fail (INVALID_ARGUMENT), for batch failure-isolation tests.
Asset `assets.extra/tag.txt` holds the same tag. postprocess reports both: `graph_tag` (recovered from y - x)
and `asset_tag`. The gateway imports this module through GATEWAY_FAMILY_MODULES; it never imports
TensorFlow (only `write_savedmodel` does, in the test process).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from common.signatures import Signature, TensorSpec
from gateway.core.config import Settings
from gateway.errors import InvalidInput
from gateway.families.base import Family, Prepared, UploadedFile, register

MODEL = "versioned"
PENDING_MODEL = "versioned_pending"  # configured, never published: "pending" -> 503 + Retry-After
SIGNATURE = Signature(inputs={"x": TensorSpec("float32", (-1, -1))}, outputs={"y": TensorSpec("float32", (-1, -1))})
SPIN_OFFSET = 1e6
POISON_AT = 1e30  # a value at or above this fails the graph (INVALID_ARGUMENT): one bad member of a batch


class VersionInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: list[float] = Field(min_length=1, max_length=64, description="1..64 numbers")


class VersionOutputs(BaseModel):
    y: list[float]
    graph_tag: int
    asset_tag: int


@register
class VersionFamily(Family[int, VersionInputs, None]):
    name = "versiontest"
    models = (MODEL, PENDING_MODEL)
    Inputs = VersionInputs
    Outputs = VersionOutputs
    example = {"x": [1.0, 2.0, 3.0]}
    file_fields = ("x",)
    batchable = True
    pad_values = {"x": 0.0}  # y = x + tag*1000 row-wise: padding changes no real element; postprocess trims it
    light_hooks = True

    def load_assets(self, version_dir: Path, manifest: dict[str, Any], settings: Settings) -> int:
        return int((version_dir / "assets.extra" / "tag.txt").read_text())

    def preprocess(self, inputs: VersionInputs, assets: int) -> Prepared[None]:
        return Prepared({"x": np.asarray([inputs.x], dtype=np.float32)}, None)

    def postprocess(self, outputs: dict[str, np.ndarray], assets: int, inputs: VersionInputs, context: None) -> VersionOutputs:
        x = np.asarray(inputs.x, dtype=np.float32)
        y = outputs["y"][0][: x.size]  # batched with longer requests: drop the padding
        graph_tag = int(round(float(np.mean(y - x)) / 1000.0))
        return VersionOutputs(y=y.tolist(), graph_tag=graph_tag, asset_tag=assets)

    def parse_multipart(self, fields: dict[str, str], files: list[UploadedFile]) -> VersionInputs:
        if fields:
            raise InvalidInput(f"unexpected form field(s) {sorted(fields)}; model {MODEL!r} takes only the file field `x`")
        try:
            values = [float(t) for t in files[0].data.decode("utf-8").split()]
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput("file `x` must be UTF-8 text of whitespace-separated numbers") from None
        return VersionInputs(x=values)


def write_savedmodel(directory: Path, tag: int) -> None:
    import tensorflow as tf

    class Versioned(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            spins = tf.cast(tf.clip_by_value(-tf.reduce_min(x) - SPIN_OFFSET, 0.0, 1e9), tf.int64)
            _, acc = tf.while_loop(lambda i, a: i < spins, lambda i, a: (i + 1, a + 1.0), (tf.constant(0, tf.int64), tf.constant(0.0)))
            check = tf.debugging.assert_less(tf.reduce_max(x), POISON_AT, message="poisoned input")
            with tf.control_dependencies([check]):
                return {"y": x + float(tag) * 1000.0 + 0.0 * acc}

    module = Versioned()
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})


def publish_version(repo: Path):  # -> training.export.Published
    """Publish the next version of `versioned` with tag == its version number."""
    from training.export import ExportSpec, next_version, publish

    tag = next_version(Path(repo) / MODEL)
    spec = ExportSpec(
        model=MODEL,
        family="versiontest",
        preset="tiny",
        write_savedmodel=lambda d: write_savedmodel(d, tag),
        warmup_inputs={"x": np.ones((2, 3), np.float32)},
        training_data_hash="sha256:none",
        metrics={"tag": tag},
        assets={"tag.txt": str(tag).encode()},
        signature=SIGNATURE,
    )
    published = publish(spec, Path(repo))
    assert published.version == tag, (published.version, tag)
    return published
