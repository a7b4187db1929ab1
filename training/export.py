"""The one way every family publishes a version (design §3, §4).

Why one module: the steps that must never differ between families live here, so no family can forget one:
the SavedModel is written to a temporary, non-integer directory beside the model's directory; its
`serving_default` aliases are read back from `saved_model.pb` and checked against the contract; the
manifest and TF Serving warm-up records go into `assets.extra/`; everything is fsynced; then, under the
repository lock, the directory is renamed to the next integer. A process killed at any point leaves only a
`.tmp-export-*` directory, which TF Serving and our model server ignore, and which the next publish removes
once its owner is dead. Version numbers are never reused, even after a version is deleted
(`<model>/.published` remembers the highest one).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from common import assets
from common import manifest as mf
from common import repository as repo_mod
from common.signatures import CONTRACTS, SIGNATURE_KEY, Signature, shapes_compatible

TMP_PREFIX = ".tmp-export-"


class ExportError(RuntimeError):
    """The SavedModel does not honour the contract, or publishing failed; nothing was published."""


@dataclass(frozen=True)
class Published:
    model: str
    version: int
    path: Path


@dataclass
class ExportSpec:
    """What a family hands to :func:`publish`. `write_savedmodel(dir)` must write a SavedModel into `dir`."""

    model: str
    family: str
    preset: str
    write_savedmodel: Callable[[Path], None]
    warmup_inputs: Mapping[str, np.ndarray]
    training_data_hash: str
    metrics: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    assets: Mapping[str, bytes | Path] = field(default_factory=dict)  # file name in assets.extra -> content
    extra: dict[str, Any] = field(default_factory=dict)
    signature: Signature | None = None  # defaults to CONTRACTS[model]


def read_signature_def(saved_model_dir: Path, key: str = SIGNATURE_KEY) -> dict[str, dict[str, tuple[str, tuple[int, ...] | None]]]:
    """Aliases, dtypes and shapes of one signature as written in `saved_model.pb` (never assumed)."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((Path(saved_model_dir) / "saved_model.pb").read_bytes())
    for mg in sm.meta_graphs:
        if "serve" in mg.meta_info_def.tags and key in mg.signature_def:
            sig = mg.signature_def[key]

            def side(m: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
                out = {}
                for alias, info in m.items():
                    shape = None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)
                    out[alias] = (tf.dtypes.as_dtype(info.dtype).name, shape)
                return out

            return {"inputs": side(sig.inputs), "outputs": side(sig.outputs)}
    raise ExportError(f"{saved_model_dir}: no 'serve' MetaGraph with signature {key!r}")


def check_signature(saved_model_dir: Path, contract: Signature) -> None:
    found = read_signature_def(saved_model_dir, contract.key)
    for side in ("inputs", "outputs"):
        want = getattr(contract, side)
        got = found[side]
        if set(want) != set(got):
            raise ExportError(f"signature {side} aliases {sorted(got)} != contract {sorted(want)}")
        for alias, spec in want.items():
            dtype, shape = got[alias]
            if dtype != spec.dtype or not shapes_compatible(spec.shape, shape):
                raise ExportError(f"{side[:-1]} {alias!r}: {dtype} {shape} does not match contract {spec.dtype} {spec.shape}")


def check_loads_like_tf_serving(saved_model_dir: Path, contract: Signature, inputs: Mapping[str, np.ndarray]) -> None:
    """Load the export as TF Serving does (a TF1 session over the MetaGraph, signature run by tensor names)
    and run the warm-up batch through it. Why: an export can load with `tf.saved_model.load` yet fail in TF
    Serving, e.g. a Keras 3 model held by a `tf.Module` whose variables are not tracked ("Could not find
    variable ..."); such a version must never be published. Use :func:`keras_writer` to avoid that trap."""
    import tensorflow as tf

    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as session:
        try:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(saved_model_dir))
            sig = meta_graph.signature_def[contract.key]
            feed = {sig.inputs[a].name: np.asarray(v) for a, v in inputs.items()}
            session.run({a: t.name for a, t in sig.outputs.items()}, feed_dict=feed)
        except Exception as e:  # any TF error: report it as an export failure, publish nothing
            raise ExportError(f"the SavedModel does not run the way TF Serving runs it: {str(e).splitlines()[0]}") from e


def keras_writer(
    tracked: Any | Sequence[Any],
    endpoints: Mapping[str, tuple[Callable[..., Any], Sequence[Any]]],
) -> Callable[[Path], None]:
    """`write_savedmodel` for Keras 3 models: `endpoints` maps signature key -> (function returning a dict keyed
    by output alias, input signature of `tf.TensorSpec`s named by input alias).

    Why Keras's ExportArchive and not `tf.saved_model.save` of a `tf.Module` holding the model: with the latter
    the functions read Keras variable wrappers that a TF1 session restore (TF Serving, our modelserver) never
    initialises ("Could not find variable ..."); ExportArchive's SavedModel loads both ways.
    :func:`check_loads_like_tf_serving` catches the difference before anything is published."""

    def write(directory: Path) -> None:
        import tensorflow as tf
        from keras.export import ExportArchive

        archive = ExportArchive()
        for model in tracked if isinstance(tracked, (list, tuple)) else [tracked]:
            archive.track(model)
        for key, (fn, input_signature) in endpoints.items():
            function = fn if isinstance(fn, tf.types.experimental.PolymorphicFunction) else tf.function(fn)
            archive.add_endpoint(key, function, input_signature=list(input_signature))
        archive.write_out(str(directory), verbose=False)

    return write


def write_warmup(path: Path, model: str, inputs: Mapping[str, np.ndarray], key: str = SIGNATURE_KEY) -> None:
    """One PredictionLog record per row of the warm-up batch, plus one with the whole batch (≤ 1000 records)."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    batch = len(next(iter(inputs.values())))
    rows = [{a: v[i : i + 1] for a, v in inputs.items()} for i in range(min(batch, mf.WARMUP_MAX_RECORDS - 1))]
    with tf.io.TFRecordWriter(str(path)) as writer:
        for sample in [dict(inputs), *rows]:
            req = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name=model, signature_name=key))
            for alias, value in sample.items():
                req.inputs[alias].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=req))
            writer.write(log.SerializeToString())


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        repo_mod.fsync_dir(Path(dirpath))


def _remove_dead_temporaries(model_dir: Path) -> None:
    for p in model_dir.glob(TMP_PREFIX + "*"):
        try:
            pid = int(p.name[len(TMP_PREFIX) :].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def next_version(model_dir: Path) -> int:
    marker = model_dir / ".published"
    highest = int(marker.read_text()) if marker.exists() else 0
    existing = repo_mod.list_versions(model_dir)
    return max([highest, *existing.keys()]) + 1


def publish(spec: ExportSpec, repo: Path | None = None) -> Published:
    """Write, check and atomically publish one version; returns its number and path."""
    repo = Path(repo or repo_mod.default_repository())
    contract = spec.signature or CONTRACTS[spec.model]
    model_dir = repo / spec.model
    model_dir.mkdir(parents=True, exist_ok=True)
    _remove_dead_temporaries(model_dir)
    tmp = model_dir / f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        spec.write_savedmodel(tmp)
        check_signature(tmp, contract)
        check_loads_like_tf_serving(tmp, contract, spec.warmup_inputs)
        extra_dir = mf.assets_dir(tmp)
        extra_dir.mkdir(parents=True, exist_ok=True)
        for name, content in spec.assets.items():
            target = extra_dir / name
            if isinstance(content, (bytes, bytearray)):
                target.write_bytes(content)
            else:
                shutil.copyfile(content, target)
        write_warmup(extra_dir / mf.WARMUP_NAME, spec.model, spec.warmup_inputs, contract.key)
        with repo_mod.RepositoryLock(repo):
            version = next_version(model_dir)
            manifest = {
                "model": spec.model,
                "family": spec.family,
                "version": version,
                "preset": spec.preset,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "training_data_hash": spec.training_data_hash,
                "signature": contract.as_dict(),
                "metrics": spec.metrics,
                "preprocessing": spec.preprocessing,
                "assets": sorted(spec.assets),
                **spec.extra,
            }
            mf.manifest_path(tmp).write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=_json_default))
            check_gateway_assets(tmp, spec.model)
            _fsync_tree(tmp)
            final = model_dir / str(version)
            os.rename(tmp, final)
            (model_dir / ".published").write_text(str(version))
            repo_mod.fsync_dir(model_dir)
            repo_mod.ensure_model(repo / repo_mod.CONFIG_NAME, spec.model)
        return Published(spec.model, version, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_gateway_assets(version_dir: Path, model: str) -> None:
    """The family's asset reader (`common.assets`, the one the gateway serves with) on the new version, before
    it is published: TF Serving's default policy unloads the previous version as soon as this one loads, so a
    version whose assets the gateway cannot read would take the model offline."""
    try:
        assets.check(version_dir, mf.read_manifest(version_dir))
    except Exception as e:
        raise ExportError(f"{model}: the gateway cannot load this version's assets: {e}") from e


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
