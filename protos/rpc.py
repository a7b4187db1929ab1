"""TF Serving's gRPC method paths bound to our messages, for clients (sync and asyncio) and servers.

We deliberately define no ``service`` in the .proto files: a service named ``tensorflow.serving.PredictionService``
would clash with the official package in one process. Instead every method is addressed by the exact path
TF Serving registers, with explicit (de)serializers, which is all gRPC puts on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any as AnyType

from google.protobuf import any_pb2, message

from protos import get_model_metadata_pb2, get_model_status_pb2, model_management_pb2, predict_pb2

PREDICTION_SERVICE = "tensorflow.serving.PredictionService"
MODEL_SERVICE = "tensorflow.serving.ModelService"

# The type URL TF Serving uses for the "signature_def" entry of GetModelMetadataResponse.metadata.
SIGNATURE_DEF_MAP_TYPE_URL = "type.googleapis.com/tensorflow.serving.SignatureDefMap"


@dataclass(frozen=True)
class Method:
    service: str
    name: str
    request: type[message.Message]
    response: type[message.Message]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


PREDICT = Method(PREDICTION_SERVICE, "Predict", predict_pb2.PredictRequest, predict_pb2.PredictResponse)
GET_MODEL_METADATA = Method(
    PREDICTION_SERVICE,
    "GetModelMetadata",
    get_model_metadata_pb2.GetModelMetadataRequest,
    get_model_metadata_pb2.GetModelMetadataResponse,
)
GET_MODEL_STATUS = Method(
    MODEL_SERVICE, "GetModelStatus", get_model_status_pb2.GetModelStatusRequest, get_model_status_pb2.GetModelStatusResponse
)
HANDLE_RELOAD_CONFIG_REQUEST = Method(
    MODEL_SERVICE,
    "HandleReloadConfigRequest",
    model_management_pb2.ReloadConfigRequest,
    model_management_pb2.ReloadConfigResponse,
)
METHODS = (PREDICT, GET_MODEL_METADATA, GET_MODEL_STATUS, HANDLE_RELOAD_CONFIG_REQUEST)


class Stub:
    """Callables for all four methods on a channel; works for ``grpc.Channel`` and ``grpc.aio.Channel``."""

    def __init__(self, channel: AnyType) -> None:
        for m in METHODS:
            callable_ = channel.unary_unary(
                m.path, request_serializer=m.request.SerializeToString, response_deserializer=m.response.FromString
            )
            setattr(self, m.name, callable_)


def pack_signature_def_map(sig_map: get_model_metadata_pb2.SignatureDefMap) -> any_pb2.Any:
    return any_pb2.Any(type_url=SIGNATURE_DEF_MAP_TYPE_URL, value=sig_map.SerializeToString())


def unpack_signature_def_map(packed: any_pb2.Any) -> get_model_metadata_pb2.SignatureDefMap:
    if packed.type_url.rsplit("/", 1)[-1] != "tensorflow.serving.SignatureDefMap":
        raise ValueError(f"unexpected metadata type {packed.type_url!r}")
    return get_model_metadata_pb2.SignatureDefMap.FromString(packed.value)


def generic_handler(service: str, implementations: dict[str, AnyType]) -> AnyType:
    """A grpc generic handler serving ``implementations`` (method name -> behaviour) under ``service``."""
    import grpc

    handlers = {}
    for m in METHODS:
        if m.service == service and m.name in implementations:
            handlers[m.name] = grpc.unary_unary_rpc_method_handler(
                implementations[m.name], request_deserializer=m.request.FromString, response_serializer=m.response.SerializeToString
            )
    return grpc.method_handlers_generic_handler(service, handlers)
