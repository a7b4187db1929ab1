"""Predict and GetModelMetadata on one borrowed servable, with TF Serving's checks in TF Serving's order.

Order (tensorflow_serving/servables/tensorflow/predict_util.cc): signature key -> signature method ->
number of inputs (with the sent-extra / missing lists) -> each input alias known and its tensor parsable ->
output_filter aliases known and not repeated -> dtypes (the TF runtime's "Expects arg[i] ..." wording,
checked here because a session callable words it differently) -> run. Inputs are visited in sorted alias
order, so `arg[i]` is deterministic (TF Serving's order is its proto map's).

This module does not import TensorFlow: the servable's `run` is the only TF call, so request validation is
testable without a session.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from modelserver.errors import FailedPrecondition, Internal, InvalidArgument, ServingError, code_of, message_of
from protos import codec, get_model_metadata_pb2, meta_graph_pb2, predict_pb2, types_pb2
from protos.rpc import pack_signature_def_map

DEFAULT_SIGNATURE = "serving_default"
PREDICT_METHODS = ("tensorflow/serving/predict", "tensorflow/serving/classify", "tensorflow/serving/regress")
SIGNATURE_DEF_FIELD = "signature_def"


class Servable(Protocol):
    """What a loaded version offers (modelserver.loader.SavedModelServable is the real one)."""

    signatures: dict[str, meta_graph_pb2.SignatureDef]  # ours, parsed from the MetaGraph's bytes

    def run(
        self, feeds: Sequence[tuple[str, np.ndarray]], fetches: Sequence[str], timeout_ms: int | None = None
    ) -> list[np.ndarray]: ...


class RuntimeFailure(ServingError):
    """An error raised by the TF runtime while running the graph, carrying its own code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def dtype_name(dtype: int) -> str:
    if dtype in codec.TF_TYPE_NAMES:
        return codec.TF_TYPE_NAMES[dtype]
    try:
        return types_pb2.DataType.Name(dtype).removeprefix("DT_").lower()
    except ValueError:
        return f"dtype {dtype}"


def _keys(mapping) -> str:
    return ",".join(sorted(mapping))


def check_predict_method(signature: meta_graph_pb2.SignatureDef) -> None:
    if signature.method_name not in PREDICT_METHODS:
        raise Internal(
            "Expected prediction signature method_name to be one of {"
            + ", ".join(PREDICT_METHODS)
            + f"}}. Was: {signature.method_name}"
        )


def run_signature(
    servable: Servable,
    signature: meta_graph_pb2.SignatureDef,
    feeds: Sequence[tuple[str, np.ndarray]],
    aliases: Sequence[str],
    *,
    timeout_ms: int | None = None,
) -> list[np.ndarray]:
    """Run `signature` on (input alias, value) feeds, fetching the `aliases` outputs; the one session call of
    Predict (gRPC and REST) and of REST classify/regress. Runtime errors keep TF's code and words."""
    try:
        return servable.run(
            [(signature.inputs[alias].name, value) for alias, value in feeds],
            [signature.outputs[alias].name for alias in aliases],
            timeout_ms=timeout_ms,
        )
    except ServingError:
        raise
    except Exception as e:  # noqa: BLE001 - TF runtime errors keep their own code and words
        code = code_of(e)
        raise RuntimeFailure("INVALID_ARGUMENT" if code == "UNKNOWN" and isinstance(e, (ValueError, TypeError)) else code, message_of(e)) from e


def run_predict(
    servable: Servable,
    version: int,
    request: predict_pb2.PredictRequest,
    *,
    as_content: bool = False,
    timeout_ms: int | None = None,
) -> predict_pb2.PredictResponse:
    key = request.model_spec.signature_name or DEFAULT_SIGNATURE
    signature = servable.signatures.get(key)
    if signature is None:
        raise FailedPrecondition(f'Serving signature key "{key}" not found.')
    check_predict_method(signature)
    if len(request.inputs) != len(signature.inputs):
        sent, wanted = set(request.inputs), set(signature.inputs)
        raise InvalidArgument(
            f"input size does not match signature: {len(request.inputs)}!={len(signature.inputs)} "
            f"len({{{_keys(sent)}}}) != len({{{_keys(wanted)}}}). "
            f"Sent extra: {{{_keys(sent - wanted)}}}. Missing but required: {{{_keys(wanted - sent)}}}."
        )
    feeds: list[tuple[str, int, np.ndarray]] = []  # (alias, request dtype, value)
    for alias in sorted(request.inputs):
        info = signature.inputs.get(alias)
        if info is None:
            raise InvalidArgument(
                f"input tensor alias not found in signature: {alias}. Inputs expected to be in the set {{{_keys(signature.inputs)}}}."
            )
        proto = request.inputs[alias]
        try:
            value = codec.make_ndarray(proto)
        except codec.TensorCodecError:
            raise InvalidArgument(f"tensor parsing error: {alias}") from None
        feeds.append((alias, proto.dtype, value))
    aliases: list[str] = []
    for alias in request.output_filter:
        if alias not in signature.outputs:
            raise InvalidArgument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be in the set {{{_keys(signature.outputs)}}}."
            )
        if alias in aliases:
            raise InvalidArgument(f"duplicate output tensor alias: {alias}")
        aliases.append(alias)
    if not aliases:
        aliases = sorted(signature.outputs)
    for i, (alias, dtype, _value) in enumerate(feeds):
        expected = signature.inputs[alias].dtype
        if dtype != expected:
            raise InvalidArgument(f"Expects arg[{i}] to be {dtype_name(expected)} but {dtype_name(dtype)} is provided")
    outputs = run_signature(servable, signature, [(alias, value) for alias, _dtype, value in feeds], aliases, timeout_ms=timeout_ms)
    response = predict_pb2.PredictResponse()
    response.model_spec.name = request.model_spec.name
    response.model_spec.version.value = version
    response.model_spec.signature_name = key
    for alias, value in zip(aliases, outputs):
        response.outputs[alias].CopyFrom(codec.make_tensor_proto(np.asarray(value), as_content=as_content))
    return response


def validate_metadata_request(request: get_model_metadata_pb2.GetModelMetadataRequest) -> None:
    if not request.metadata_field:
        raise InvalidArgument("GetModelMetadataRequest must specify at least one metadata_field")
    for name in request.metadata_field:
        if name != SIGNATURE_DEF_FIELD:
            raise InvalidArgument(f"Metadata field {name} is not supported")


def model_metadata(servable: Servable, name: str, version: int) -> get_model_metadata_pb2.GetModelMetadataResponse:
    """Every signature of the MetaGraph, packed in Any with TF Serving's type URL."""
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    for key, sig in servable.signatures.items():
        sig_map.signature_def[key].CopyFrom(sig)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = name
    response.model_spec.version.value = version
    response.metadata[SIGNATURE_DEF_FIELD].CopyFrom(pack_signature_def_map(sig_map))
    return response
