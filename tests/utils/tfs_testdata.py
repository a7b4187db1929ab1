"""TF Serving's test SavedModel `saved_model_half_plus_two_cpu/00000123`, regenerated with TensorFlow.

TF Serving's own REST tests (tensorflow_model_server_test.py, http_rest_api_handler_test.cc) run against this
model; regenerating it (rather than committing its binaries) keeps the repository free of foreign binaries.
The graph is the one TF Serving's generator describes (saved_model_half_plus_two.py, Apache-2.0): variables
a=0.5, b=2, c=3 (and a2=0.5, c2=3 for the x2 path), a serialized-tf.Example placeholder `tf_example` parsed
into x and x2 (FixedLenFeature [1] float, x2 defaulting to 0), y = a*x + b, y2 = a*x + c, y3 = a2*x2 + c2, an
asset file, and five signatures:

- serving_default   (predict)   x:0 -> y:0
- classify_x_to_y   (classify)  tf_example:0 -> scores y:0
- regress_x_to_y    (regress)   tf_example:0 -> outputs y:0
- regress_x_to_y2   (regress)   tf_example:0 -> outputs y2:0
- regress_x2_to_y3  (regress)   x2:0 -> outputs y3:0

`tests/modelserver/data/half_plus_two_model_metadata.json` is TF Serving's expected metadata of that model;
the REST test checks our regenerated model against it, so a drift in either shows up.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

HALF_PLUS_TWO_VERSION = 123
_lock = threading.Lock()
_cache: dict[str, Path] = {}


def write_half_plus_two(export_dir: Path) -> None:
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        a = v1.Variable(0.5, name="a")
        b = v1.Variable(2.0, name="b")
        c = v1.Variable(3.0, name="c")
        serialized = v1.placeholder(tf.string, name="tf_example", shape=[None])
        features = v1.parse_example(
            serialized,
            {
                "x": v1.FixedLenFeature([1], dtype=tf.float32),
                "x2": v1.FixedLenFeature([1], dtype=tf.float32, default_value=[0.0]),
            },
        )
        x = tf.identity(features["x"], name="x")
        y = tf.identity(tf.add(tf.multiply(a, x), b), name="y")
        y2 = tf.identity(tf.add(tf.multiply(a, x), c), name="y2")
        x2 = tf.identity(features["x2"], name="x2")
        a2 = v1.Variable(0.5, name="a2")
        c2 = v1.Variable(3.0, name="c2")
        y3 = tf.identity(tf.add(tf.multiply(a2, x2), c2), name="y3")

        assets = Path(tempfile.mkdtemp(prefix="half-plus-two-assets-"))
        (assets / "foo.txt").write_text("asset-file-contents")
        asset_path = tf.constant(str(assets / "foo.txt"))
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset_path)

        def info(tensor):
            tensor_info = v1.saved_model.utils.build_tensor_info(tensor)
            if tensor is serialized:  # TF Serving's binary records this input with an unknown rank
                tensor_info.tensor_shape.Clear()
                tensor_info.tensor_shape.unknown_rank = True
            return tensor_info

        sig = v1.saved_model.signature_def_utils.build_signature_def
        consts = v1.saved_model.signature_constants
        signatures = {
            "regress_x_to_y": sig({"inputs": info(serialized)}, {"outputs": info(y)}, consts.REGRESS_METHOD_NAME),
            "regress_x_to_y2": sig({"inputs": info(serialized)}, {"outputs": info(y2)}, consts.REGRESS_METHOD_NAME),
            "regress_x2_to_y3": sig({"inputs": info(x2)}, {"outputs": info(y3)}, consts.REGRESS_METHOD_NAME),
            "classify_x_to_y": sig({"inputs": info(serialized)}, {"scores": info(y)}, consts.CLASSIFY_METHOD_NAME),
            consts.DEFAULT_SERVING_SIGNATURE_DEF_KEY: sig({"x": info(x)}, {"y": info(y)}, consts.PREDICT_METHOD_NAME),
        }
        sess.run(v1.global_variables_initializer())
        builder = v1.saved_model.builder.SavedModelBuilder(str(export_dir))
        builder.add_meta_graph_and_variables(
            sess,
            [v1.saved_model.tag_constants.SERVING],
            signature_def_map=signatures,
            assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
        )
        builder.save()
        shutil.rmtree(assets, ignore_errors=True)


def write_blocking_model(export_dir: Path) -> None:
    """serving_default: y = x + (a value dequeued from an empty queue): every call blocks until the session's
    timeout cancels it (DEADLINE_EXCEEDED), deterministically, with no sleeps."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as sess:
        x = v1.placeholder(tf.float32, [None], name="x")
        queue = tf.queue.FIFOQueue(1, [tf.float32], shapes=[[]], name="never_filled")
        y = tf.add(x, queue.dequeue(), name="y")
        sig = v1.saved_model.signature_def_utils.predict_signature_def(inputs={"x": x}, outputs={"y": y})
        builder = v1.saved_model.builder.SavedModelBuilder(str(export_dir))
        builder.add_meta_graph_and_variables(sess, [v1.saved_model.tag_constants.SERVING], signature_def_map={"serving_default": sig})
        builder.save()


def model_base(name: str, writer, version: int = HALF_PLUS_TWO_VERSION) -> Path:
    """A base path `<tmp>/<name>/<00000123>` built once per test session (copy it before changing it)."""
    with _lock:
        if name not in _cache:
            base = Path(tempfile.mkdtemp(prefix=f"tfs-{name}-")) / name
            writer(base / f"{version:08d}")
            _cache[name] = base
        return _cache[name]


def copy_model(name: str, writer, target: Path, version: int = HALF_PLUS_TWO_VERSION) -> Path:
    shutil.copytree(model_base(name, writer, version), target)
    return target
