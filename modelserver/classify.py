"""Classify and Regress on one borrowed servable, with TF Serving's checks and message texts
(tensorflow_serving/servables/tensorflow/classifier.cc and regressor.cc).

The input is a batch of serialized tf.Examples fed to the signature's "inputs" tensor; the outputs are read
back as TF Serving reads them ("classes"/"scores", "outputs"). As in TF Serving with its default
`--enable_signature_method_name_check=false`, a signature qualifies by its inputs and outputs, not by its
method name, so TF2 exports (whose signatures all say "predict") can be classified too. Served over REST
(`:classify`, `:regress`); gRPC answers Predict only.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from google.protobuf import text_format

from modelserver.errors import InvalidArgument
from modelserver.predict import DEFAULT_SIGNATURE, Servable, run_signature
from protos import codec, meta_graph_pb2, types_pb2

CLASSIFY_INPUTS = "inputs"
CLASSIFY_OUTPUT_CLASSES = "classes"
CLASSIFY_OUTPUT_SCORES = "scores"
REGRESS_INPUTS = "inputs"
REGRESS_OUTPUTS = "outputs"


def _signature(servable: Servable, name: str) -> meta_graph_pb2.SignatureDef:
    key = name or DEFAULT_SIGNATURE
    signature = servable.signatures.get(key)
    if signature is None:
        raise InvalidArgument(f"No signature was found with the name: {key}")
    return signature


def _debug(signature: meta_graph_pb2.SignatureDef) -> str:
    return text_format.MessageToString(signature)


def _shape(array: np.ndarray) -> str:
    return "[" + ",".join(str(d) for d in array.shape) + "]"


def _dtype_enum(array: np.ndarray) -> str:
    try:
        return types_pb2.DataType.Name(codec.numpy_to_dtype(array.dtype))
    except codec.TensorCodecError:
        return str(array.dtype)


def _examples_tensor(examples: Sequence[bytes]) -> np.ndarray:
    if not examples:
        raise InvalidArgument("Input is empty.")
    tensor = np.empty(len(examples), dtype=object)
    tensor[:] = list(examples)
    return tensor


def classify(
    servable: Servable, signature_name: str, examples: Sequence[bytes], *, timeout_ms: int | None = None
) -> list[list[tuple[bytes, float]]]:
    """Per example, its (label, score) pairs; a missing "classes" output gives empty labels, a missing
    "scores" output gives score 0 (ClassificationResult's defaults)."""
    signature = _signature(servable, signature_name)
    if len(signature.inputs) != 1:
        raise InvalidArgument("Expected one input Tensor.")
    if len(signature.outputs) not in (1, 2):
        raise InvalidArgument(f"Expected one or two output Tensors, found {len(signature.outputs)}")
    if CLASSIFY_INPUTS not in signature.inputs:
        raise InvalidArgument(f"No classification inputs found in SignatureDef: {_debug(signature)}")
    aliases = [a for a in (CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES) if a in signature.outputs]
    if not aliases:
        raise InvalidArgument(
            'Expected classification signature outputs to contain at least one of "classes" or "scores". '
            f"Signature was: {_debug(signature)}"
        )
    tensor = _examples_tensor(examples)
    outputs = dict(zip(aliases, run_signature(servable, signature, [(CLASSIFY_INPUTS, tensor)], aliases, timeout_ms=timeout_ms)))
    count = len(examples)
    classes, scores = outputs.get(CLASSIFY_OUTPUT_CLASSES), outputs.get(CLASSIFY_OUTPUT_SCORES)
    for array, kind, want in ((classes, "classes", types_pb2.DT_STRING), (scores, "scores", types_pb2.DT_FLOAT)):
        if array is None:
            continue
        array = np.asarray(array)
        if array.ndim != 2:
            raise InvalidArgument(f"Expected Tensor shape: [batch_size num_classes] but got {_shape(array)}")
        if _dtype_enum(array) != types_pb2.DataType.Name(want):
            raise InvalidArgument(f"Expected {kind} Tensor of {types_pb2.DataType.Name(want)}. Got: {_dtype_enum(array)}")
        if array.shape[0] != count:
            raise InvalidArgument(f"Expected {kind} output batch size of {count}. Got: {array.shape[0]}")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise InvalidArgument(
            f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. {scores.shape[1]}"
        )
    num_classes = (classes if classes is not None else scores).shape[1]
    results = []
    for i in range(count):
        row = []
        for c in range(num_classes):
            label = classes[i, c] if classes is not None else b""
            score = float(scores[i, c]) if scores is not None else 0.0
            row.append((label if isinstance(label, bytes) else str(label).encode("utf-8"), score))
        results.append(row)
    return results


def regress(servable: Servable, signature_name: str, examples: Sequence[bytes], *, timeout_ms: int | None = None) -> list[float]:
    """One float per example."""
    signature = _signature(servable, signature_name)
    if len(signature.inputs) != 1:
        raise InvalidArgument("Expected one input Tensor.")
    if len(signature.outputs) != 1:
        raise InvalidArgument("Expected one output Tensor.")
    if REGRESS_INPUTS not in signature.inputs:
        raise InvalidArgument(f"No regression inputs found in SignatureDef: {_debug(signature)}")
    if REGRESS_OUTPUTS not in signature.outputs:
        raise InvalidArgument(f"No regression outputs found in SignatureDef: {_debug(signature)}")
    tensor = _examples_tensor(examples)
    (output,) = run_signature(servable, signature, [(REGRESS_INPUTS, tensor)], [REGRESS_OUTPUTS], timeout_ms=timeout_ms)
    output = np.asarray(output)
    count = len(examples)
    if not (output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)):
        raise InvalidArgument(
            f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got {_shape(output)}"
        )
    if output.shape[0] != count:
        raise InvalidArgument(f"Input batch size did not match output batch size: {count} vs. {output.shape[0]}")
    if _dtype_enum(output) != "DT_FLOAT":
        raise InvalidArgument(f"Expected output Tensor of DT_FLOAT.  Got: {_dtype_enum(output)}")
    if output.size != count:
        raise InvalidArgument(f"Expected output batch size to be {count}.  Got: {output.size}")
    return [float(v) for v in output.ravel().tolist()]
