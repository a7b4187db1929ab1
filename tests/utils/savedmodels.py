"""Tiny real SavedModels for tests, published the one real way (`training.export.publish`).

The "affine" servable computes ``y = x * a + b`` (and ``total = sum(y, axis=1)``) with `a`, `b` baked in as
variables, so each published version is told apart by its outputs (:func:`affine_expected`). Building a
SavedModel costs about a second, so built directories are cached per (a, b) for the whole test session and
copied on publish.

Signatures:
- ``serving_default``: x float32 [B, 2] -> y float32 [B, 2], total float32 [B]
- ``doubled``:         x float32 [B, 2] -> y float32 [B, 2] = 2 * (x * a + b)
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from common.signatures import Signature, TensorSpec
from training.export import ExportSpec, Published, publish

AFFINE_MODEL = "affine"
AFFINE_SIGNATURE = Signature(
    inputs={"x": TensorSpec("float32", (-1, 2))},
    outputs={"y": TensorSpec("float32", (-1, 2)), "total": TensorSpec("float32", (-1,))},
)
WARMUP_X = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)

_cache_lock = threading.Lock()
_cache_root: Path | None = None
_cache: dict[tuple[str, float, float], Path] = {}


def affine_expected(x: np.ndarray, a: float, b: float) -> dict[str, np.ndarray]:
    y = (np.asarray(x, np.float32) * np.float32(a) + np.float32(b)).astype(np.float32)
    return {"y": y, "total": y.sum(axis=1)}


def write_affine_savedmodel(directory: Path, a: float, b: float) -> None:
    """TF2 export with explicit `tf.function` signatures (the way families export, docs/design.md §3)."""
    import tensorflow as tf

    class Affine(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = tf.Variable(a, dtype=tf.float32, name="a")
            self.b = tf.Variable(b, dtype=tf.float32, name="b")

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            y = x * self.a + self.b
            return {"y": y, "total": tf.reduce_sum(y, axis=1)}

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def doubled(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"y": 2.0 * (x * self.a + self.b)}

    module = Affine()
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve, "doubled": module.doubled})


def write_tf1_affine_savedmodel(directory: Path, a: float, b: float) -> None:
    """TF1-style export (graph + Session + SavedModelBuilder), as the book's chapter 14 does it."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 2], name="input_x")
        av = v1.get_variable("a", initializer=tf.constant(a, tf.float32))
        bv = v1.get_variable("b", initializer=tf.constant(b, tf.float32))
        y = tf.add(x * av, bv, name="output_y")
        total = tf.reduce_sum(y, axis=1, name="output_total")
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            builder = v1.saved_model.builder.SavedModelBuilder(str(directory))
            sig = v1.saved_model.signature_def_utils.predict_signature_def(inputs={"x": x}, outputs={"y": y, "total": total})
            builder.add_meta_graph_and_variables(
                sess, [v1.saved_model.tag_constants.SERVING], signature_def_map={"serving_default": sig}, strip_default_attrs=True
            )
            builder.save()


def _cached(kind: str, a: float, b: float) -> Path:
    global _cache_root
    with _cache_lock:
        key = (kind, float(a), float(b))
        if key not in _cache:
            if _cache_root is None:
                _cache_root = Path(tempfile.mkdtemp(prefix="savedmodel-cache-"))
            target = _cache_root / f"{kind}-{len(_cache)}"
            (write_tf1_affine_savedmodel if kind == "tf1" else write_affine_savedmodel)(target, a, b)
            _cache[key] = target
        return _cache[key]


def affine_writer(a: float, b: float, *, tf1: bool = False):
    """A `write_savedmodel(dir)` callable for ExportSpec that copies a cached build."""

    def write(directory: Path) -> None:
        shutil.copytree(_cached("tf1" if tf1 else "tf2", a, b), directory)

    return write


def affine_spec(a: float = 1.0, b: float = 0.0, *, model: str = AFFINE_MODEL, tf1: bool = False) -> ExportSpec:
    return ExportSpec(
        model=model,
        family="test-affine",
        preset="tiny",
        write_savedmodel=affine_writer(a, b, tf1=tf1),
        warmup_inputs={"x": WARMUP_X},
        training_data_hash="sha256:none",
        metrics={"a": a, "b": b},
        signature=AFFINE_SIGNATURE,
    )


def publish_affine(repo: Path, a: float = 1.0, b: float = 0.0, *, model: str = AFFINE_MODEL, tf1: bool = False) -> Published:
    """Publish one version of the affine servable into `repo` (adds the model to models.config if new)."""
    return publish(affine_spec(a, b, model=model, tf1=tf1), Path(repo))


# --- a servable that takes as long as it is told (for drain tests) ---------------------------------------
SLEEPY_MODEL = "sleepy"
SLEEPY_SIGNATURE = Signature(
    inputs={"x": TensorSpec("float32", (-1, 2)), "micros": TensorSpec("int64", (-1,))},
    outputs={"y": TensorSpec("float32", (-1, 2))},
)


def write_sleepy_savedmodel(directory: Path) -> None:
    """y = x, after sleeping max(micros) microseconds inside the graph (a tf.data sleep, so it survives export)."""
    import tensorflow as tf
    from tensorflow.python.data.experimental.ops import testing as data_testing

    class Sleepy(tf.Module):
        @tf.function(
            input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x"), tf.TensorSpec([None], tf.int64, name="micros")]
        )
        def serve(self, x: tf.Tensor, micros: tf.Tensor) -> dict[str, tf.Tensor]:
            wait = tf.reduce_max(tf.concat([micros, tf.zeros([1], tf.int64)], axis=0))
            done = tf.data.Dataset.range(1).apply(data_testing.sleep(wait)).reduce(tf.constant(0, tf.int64), lambda a, b: a + b)
            return {"y": x + tf.cast(done, tf.float32)}

    module = Sleepy()
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})


def publish_sleepy(repo: Path) -> Published:
    return publish(
        ExportSpec(
            model=SLEEPY_MODEL,
            family="test-sleepy",
            preset="tiny",
            write_savedmodel=write_sleepy_savedmodel,
            warmup_inputs={"x": WARMUP_X, "micros": np.zeros(len(WARMUP_X), np.int64)},
            training_data_hash="sha256:none",
            signature=SLEEPY_SIGNATURE,
        ),
        Path(repo),
    )
