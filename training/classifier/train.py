"""`servectl train vgg16|inception_v3`: build, (import weights,) train, evaluate held-out, publish.

Modes, chosen from what the user gives:
- no data, no weights: train the preset from scratch on the bundled digits (tiny: minutes on CPU);
- `--data DIR` (one folder per class) and/or `--set weights=PATH`: transfer learning. The pretrained
  backbone is loaded, the head is replaced with N classes, the backbone is frozen unless `--set unfreeze=true`;
- `--set weights=PATH --set mode=imagenet`: publish the pretrained ImageNet classifier as is (labels from
  the shared ImageNet class index; no held-out ImageNet data here, so the manifest says "not evaluated").
Options (`--set k=v`): weights, unfreeze, mode (auto|imagenet), epochs, batch_size, learning_rate, width,
limit (train on the first N training images: tests), seed, classes (1000|1001 for an untrained ImageNet head).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import images as im
from training.classifier import data as data_mod
from training.classifier import labels as labels_mod
from training.classifier.presets import PRESETS
from training.registry import TrainingFamily, register

OPTIONS = {
    "weights": "pretrained weights: book vgg16_weights.npz or a Keras .h5 file (never downloaded)",
    "unfreeze": "true: fine-tune the whole network (default false: backbone frozen, new head trained)",
    "mode": "auto (train on --data or digits) | imagenet (publish pretrained ImageNet weights as is)",
    "epochs": "training epochs", "batch_size": "batch size", "learning_rate": "Adam learning rate",
    "width": "channel multiplier (overrides the preset)", "limit": "train on at most N images (tests)",
    "seed": "random seed (default 0)", "eval_limit": "evaluate on at most N held-out images (tests)", "classes": "ImageNet head size for mode=imagenet (inception_v3: 1000|1001)",
}


def _bool(v: Any) -> bool:
    return str(v).lower() in {"1", "true", "yes", "on"}


def build(model_name: str, num_classes: int, width: float, dropout: float = 0.0, bn_momentum: float = 0.99):
    if model_name == "vgg16":
        from training.classifier.vgg16 import build_vgg16

        return build_vgg16(num_classes, width=width, dropout=dropout)
    from training.classifier.inception_v3 import build_inception_v3

    return build_inception_v3(num_classes, width=width, dropout=dropout, bn_momentum=bn_momentum)


def topk_accuracy(probs: np.ndarray, labels: np.ndarray, k: int) -> float:
    k = min(k, probs.shape[1])
    top = np.argsort(-probs, axis=1)[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def predict(model, images: data_mod.ImageSet, batch_size: int = 64) -> np.ndarray:
    out = []
    for s in range(0, len(images), batch_size):
        x = images.tensor(range(s, min(s + batch_size, len(images))))
        out.append(np.asarray(model(x, training=False)["probabilities"]))
    return np.concatenate(out)


def _ScalarLog(logdir: Path):
    """Per-epoch scalars as TensorBoard event files. Keras's TensorBoard callback needs the `tensorboard`
    package, which the trainer image does not ship; `tf.summary.write` with the scalars plugin tag is core TF."""
    import keras
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    class ScalarLog(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.writer = tf.summary.create_file_writer(str(logdir))
            md = summary_pb2.SummaryMetadata()
            md.plugin_data.plugin_name = "scalars"
            self.metadata = md.SerializeToString()

        def on_epoch_end(self, epoch, logs=None):
            with self.writer.as_default():
                for k, v in (logs or {}).items():
                    tf.summary.write(f"epoch_{k}", tf.constant(float(v)), step=epoch, metadata=self.metadata)
            self.writer.flush()

    return ScalarLog()


def _fit(model, ds: data_mod.Dataset, *, epochs: int, batch_size: int, lr: float, seed: int, logdir: Path) -> dict:
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(ds.train))

        def __len__(self) -> int:
            return int(np.ceil(len(ds.train) / batch_size))

        def __getitem__(self, i):
            idx = self.order[i * batch_size : (i + 1) * batch_size]
            return ds.train.tensor(idx), ds.train.labels[idx]

        def on_epoch_end(self) -> None:
            self.order = self.rng.permutation(len(ds.train))

    head = keras.Model(model.input, model.output["probabilities"])
    head.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                 jit_compile=False)  # XLA compiles Inception for minutes on CPU, for no gain here
    callbacks = [_ScalarLog(logdir)]
    hist = head.fit(Batches(), epochs=epochs, verbose=2, callbacks=callbacks)
    return {k: float(v[-1]) for k, v in hist.history.items()}


def export_fn(model, model_name: str, input_size: int):
    """`write_savedmodel(dir)` for training.export: a serving_default with the contract's aliases.

    Keras's ExportArchive, because its SavedModel restores correctly when run as TF Serving runs it (a TF1
    session over the MetaGraph); a plain tf.Module around a Keras 3 model did not (variables not found at
    warm-up). Known cost: ExportArchive writes the variables twice (VGG16: 1.1 GB instead of 553 MB)."""

    def write(directory: Path) -> None:
        import tensorflow as tf
        from keras.export import ExportArchive

        outputs = ("probabilities", "features") if model_name == "vgg16" else ("probabilities",)
        archive = ExportArchive()
        archive.track(model)

        def serve(images):
            out = model(images, training=False)
            return {k: out[k] for k in outputs}

        archive.add_endpoint(
            "serving_default", tf.function(serve),
            input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.float32, name="images")],
        )
        archive.write_out(str(directory), verbose=False)

    return write


def train(model_name: str, *, preset: str = "tiny", data: Path | None = None, repo: Path | None = None, **options: Any):
    import keras

    from common.repository import default_repository
    from training.export import ExportSpec, publish

    if preset not in PRESETS[model_name]:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS[model_name])}")
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; known: {', '.join(OPTIONS)}")
    seed = int(options.get("seed", 0))
    keras.utils.set_random_seed(seed)
    p = PRESETS[model_name][preset].with_options(
        epochs=_int(options.get("epochs")), batch_size=_int(options.get("batch_size")),
        learning_rate=_float(options.get("learning_rate")), width=_float(options.get("width")),
    )
    policy = im.POLICIES[model_name]
    weights = options.get("weights")
    unfreeze = _bool(options.get("unfreeze", False))
    mode = options.get("mode", "auto")
    t0 = time.time()

    if mode == "imagenet":
        classes = int(options.get("classes", 1000 if model_name == "vgg16" or weights else 1001))
        model = build(model_name, classes, p.width)
        source = "random init (untrained)"
        if weights:
            from training.classifier.weights import load_weights

            source = load_weights(model, weights)
        names = labels_mod.imagenet_labels(classes)
        head = f"imagenet-{classes}"
        metrics: dict[str, Any] = {"held_out": "not evaluated: no ImageNet held-out data on this machine", "weights": source}
        data_hash, data_source, n_train = f"weights:{source}", "imagenet (pretrained)", 0
    else:
        ds = data_mod.folder(Path(data), policy, _int(options.get("limit"))) if data else \
            data_mod.digits(policy, _int(options.get("limit")))
        if options.get("eval_limit"):
            n = int(options["eval_limit"])
            ds.held_out = data_mod.ImageSet(ds.held_out.images[:n], ds.held_out.labels[:n], ds.held_out.policy)
        names, head = ds.class_names, "custom"
        model = build(model_name, len(names), p.width, p.dropout, p.bn_momentum)
        source = "random init"
        lr = p.learning_rate
        if weights:
            from training.classifier.weights import load_weights

            source = load_weights(model, weights, skip_head=True)
            if unfreeze:
                lr = p.fine_tune_learning_rate
            else:
                for layer in model.layers:
                    if layer.name not in ("predictions", "probabilities"):
                        layer.trainable = False
        logdir = Path(repo or default_repository()).resolve().parent / "runs" / f"{model_name}-{time.strftime('%Y%m%d-%H%M%S')}"
        print(f"[{model_name}] {preset}: {len(ds.train)} train / {len(ds.held_out)} held-out images from {ds.source}, "
              f"{len(names)} classes, width {p.width:g}, {model.count_params():,} params, weights: {source}", flush=True)
        fit = _fit(model, ds, epochs=p.epochs, batch_size=p.batch_size, lr=lr, seed=seed, logdir=logdir) if p.epochs else {}
        probs = predict(model, ds.held_out)
        metrics = {
            "held_out_top1": topk_accuracy(probs, ds.held_out.labels, 1),
            "held_out_top5": topk_accuracy(probs, ds.held_out.labels, 5),
            "held_out_size": len(ds.held_out), "train_size": len(ds.train),
            "final_train": fit, "weights": source, "backbone_frozen": bool(weights) and not unfreeze,
        }
        print(f"[{model_name}] held-out top-1 {metrics['held_out_top1']:.4f}, top-5 {metrics['held_out_top5']:.4f}", flush=True)
        data_hash, data_source, n_train = ds.data_hash, ds.source, len(ds.train)

    metrics["train_seconds"] = round(time.time() - t0, 1)
    warm = np.zeros((2, policy.size, policy.size, 3), np.float32)
    warm[1] = 255.0
    in_graph = "x - [123.68, 116.779, 103.939]" if model_name == "vgg16" else "x / 127.5 - 1"
    spec = ExportSpec(
        model=model_name, family="classifier", preset=preset,
        write_savedmodel=export_fn(model, model_name, policy.size), warmup_inputs={"images": warm},
        training_data_hash=data_hash, metrics=metrics,
        preprocessing={"resize": policy.as_dict(), "input": "RGB float32 0..255", "in_graph": in_graph,
                       "decoder": "common.images.decode_image (EXIF orientation, alpha over white)"},
        assets={labels_mod.LABELS_ASSET: labels_mod.labels_asset(names, head)},
        extra={"architecture": {"width": p.width, "num_classes": len(names), "params": int(model.count_params()),
                                "head": head, "bn_momentum": p.bn_momentum, "epochs": p.epochs}, "data_source": data_source, "train_size": n_train},
    )
    published = publish(spec, repo)
    print(f"[{model_name}] published version {published.version} at {published.path}", flush=True)
    return published


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _float(v: Any) -> float | None:
    return None if v is None else float(eval_fraction(v))


def eval_fraction(v: Any) -> float:
    """Accept "0.0625" or "1/16" for widths."""
    s = str(v)
    if "/" in s:
        a, b = s.split("/", 1)
        return float(a) / float(b)
    return float(s)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
for _name in ("vgg16", "inception_v3"):
    register(TrainingFamily(
        name=_name, models=(_name,),
        train=lambda preset="tiny", data=None, repo=None, _m=_name, **kw: train(_m, preset=preset, data=data, repo=repo, **kw),
        options=OPTIONS,
    ))
