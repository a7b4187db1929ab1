"""The one TensorFlow-specific link: a SavedModel version loaded the way TF Serving loads it.

Why a Session over the MetaGraph (`tf.compat.v1.saved_model.loader.load`) and not `tf.saved_model.load`:
TF1 SavedModelBuilder exports (the book's chapter 14) and TF2/Keras 3 exports both load this way, and each
signature runs by its feed/fetch tensor names, exactly as TF Serving runs it. `tf.saved_model.load` rejects
some valid TF1 SavedModels that TF Serving serves.

The constructor is cheap (it only holds the path); `load()` builds the session in its own Graph, then runs
the warm-up records of `assets.extra/tf_serving_warmup_requests` through the same Predict path clients
use, so a version that fails warm-up never becomes AVAILABLE. `unload()` closes the session.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from common.manifest import ASSETS_EXTRA, WARMUP_MAX_RECORDS, WARMUP_NAME
from protos import meta_graph_pb2, predict_pb2

log = logging.getLogger(__name__)
SERVE_TAG = "serve"


class WarmupError(RuntimeError):
    """A warm-up record could not be read or did not run; the version is not served."""


class SavedModelServable:
    """A loaded version: a session, its signatures (our protos), and cached callables per feed/fetch set."""

    def __init__(self, session: Any, meta_graph_def: Any) -> None:
        self.session = session
        self.signatures: dict[str, meta_graph_pb2.SignatureDef] = {
            key: meta_graph_pb2.SignatureDef.FromString(sig.SerializeToString()) for key, sig in meta_graph_def.signature_def.items()
        }
        self._callables: dict[tuple[tuple[str, ...], tuple[str, ...], int], Any] = {}
        self._lock = threading.Lock()

    def _callable(self, feeds: tuple[str, ...], fetches: tuple[str, ...], timeout_ms: int) -> Any:
        key = (feeds, fetches, timeout_ms)
        fn = self._callables.get(key)
        if fn is None:
            from tensorflow.core.protobuf import config_pb2

            with self._lock:
                fn = self._callables.get(key)
                if fn is None:
                    options = config_pb2.CallableOptions(feed=list(feeds), fetch=list(fetches))
                    if timeout_ms > 0:  # TF Serving's RunOptions timeout (REST: --rest_api_timeout_in_ms)
                        options.run_options.timeout_in_ms = timeout_ms
                    # A callable feeds arrays straight to the runtime (no per-call Python feed handling),
                    # the closest Python gets to TF Serving's Session::Run with tensor names.
                    fn = self.session._make_callable_from_options(options)
                    self._callables[key] = fn
        return fn

    def run(
        self, feeds: Sequence[tuple[str, np.ndarray]], fetches: Sequence[str], timeout_ms: int | None = None
    ) -> list[np.ndarray]:
        """Run by tensor names; past `timeout_ms` (if > 0) TF cancels the step with DEADLINE_EXCEEDED."""
        fn = self._callable(tuple(name for name, _ in feeds), tuple(fetches), timeout_ms if timeout_ms and timeout_ms > 0 else 0)
        return list(fn(*[value for _, value in feeds]))

    def close(self) -> None:
        self._callables.clear()
        self.session.close()


@dataclass(frozen=True)
class SessionThreads:
    """TF Serving's `--tensorflow_intra_op_parallelism` / `--tensorflow_inter_op_parallelism` (0: TF picks).

    TF sizes its thread pools from the first Session of a process, so every version a server loads should
    use the same values: the server passes its one instance to every loader.
    """

    intra_op: int = 0
    inter_op: int = 0

    def config(self) -> Any:
        import tensorflow as tf

        return tf.compat.v1.ConfigProto(
            allow_soft_placement=True,
            intra_op_parallelism_threads=self.intra_op,
            inter_op_parallelism_threads=self.inter_op,
        )


class SavedModelLoader:
    def __init__(self, model: str, version: int, path: Path, *, warmup: bool = True, threads: SessionThreads = SessionThreads()) -> None:
        self.model = model
        self.version = version
        self.path = Path(path)
        self.warmup = warmup
        self.threads = threads
        self.servable: SavedModelServable | None = None
        self.warmup_records = 0

    def load(self) -> None:
        import tensorflow as tf

        graph = tf.Graph()
        session = tf.compat.v1.Session(graph=graph, config=self.threads.config())
        try:
            meta_graph_def = tf.compat.v1.saved_model.loader.load(session, [SERVE_TAG], str(self.path))
            servable = SavedModelServable(session, meta_graph_def)
            if self.warmup:
                self.warmup_records = run_warmup(servable, self.version, self.path)
        except BaseException:
            session.close()
            raise
        self.servable = servable

    def unload(self) -> None:
        servable, self.servable = self.servable, None
        if servable is not None:
            servable.close()


def loader_factory(model: str, version: int, path: Path, threads: SessionThreads = SessionThreads()) -> SavedModelLoader:
    return SavedModelLoader(model, version, path, threads=threads)


def read_warmup_requests(path: Path) -> list[predict_pb2.PredictRequest]:
    """PredictRequests of a warm-up file (TFRecord of the official PredictionLog), at most 1000."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    requests: list[predict_pb2.PredictRequest] = []
    try:
        for i, record in enumerate(tf.data.TFRecordDataset(str(path))):
            if i >= WARMUP_MAX_RECORDS:
                raise WarmupError(f"{path}: more than {WARMUP_MAX_RECORDS} warm-up records")
            entry = prediction_log_pb2.PredictionLog.FromString(record.numpy())
            kind = entry.WhichOneof("log_type")
            if kind != "predict_log":
                raise WarmupError(f"{path}: record {i}: unsupported log type {kind!r} (only predict_log)")
            requests.append(predict_pb2.PredictRequest.FromString(entry.predict_log.request.SerializeToString()))
    except tf.errors.OpError as e:
        raise WarmupError(f"{path}: cannot read warm-up records: {e.message}") from e
    return requests


def run_warmup(servable: SavedModelServable, version: int, version_dir: Path) -> int:
    from modelserver.errors import ServingError
    from modelserver.predict import run_predict

    path = Path(version_dir) / ASSETS_EXTRA / WARMUP_NAME
    if not path.exists():
        return 0
    requests = read_warmup_requests(path)
    for i, request in enumerate(requests):
        try:
            run_predict(servable, version, request)
        except ServingError as e:
            raise WarmupError(f"warm-up record {i} failed: {e.code}: {e.message}") from e
    return len(requests)
