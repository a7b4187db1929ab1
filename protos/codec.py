"""numpy <-> TensorProto, without TensorFlow.

Decoding follows TensorFlow's ``Tensor::FromProto`` rules so the model server accepts exactly what TF Serving
accepts: ``tensor_content`` must hold exactly ``num_elements * itemsize`` bytes; typed ``*_val`` fields may hold
fewer values than elements, in which case none means zeros and the last value repeats (so a single value
broadcasts), but never more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from protos import tensor_pb2, types_pb2


@dataclass(frozen=True)
class _Kind:
    dtype: types_pb2.DataType.ValueType
    numpy: np.dtype
    field: str  # the typed repeated field TF uses for this dtype


_KINDS = [
    _Kind(types_pb2.DT_FLOAT, np.dtype("<f4"), "float_val"),
    _Kind(types_pb2.DT_DOUBLE, np.dtype("<f8"), "double_val"),
    _Kind(types_pb2.DT_HALF, np.dtype("<f2"), "half_val"),
    _Kind(types_pb2.DT_INT8, np.dtype("i1"), "int_val"),
    _Kind(types_pb2.DT_INT16, np.dtype("<i2"), "int_val"),
    _Kind(types_pb2.DT_INT32, np.dtype("<i4"), "int_val"),
    _Kind(types_pb2.DT_INT64, np.dtype("<i8"), "int64_val"),
    _Kind(types_pb2.DT_UINT8, np.dtype("u1"), "int_val"),
    _Kind(types_pb2.DT_UINT16, np.dtype("<u2"), "int_val"),
    _Kind(types_pb2.DT_UINT32, np.dtype("<u4"), "uint32_val"),
    _Kind(types_pb2.DT_UINT64, np.dtype("<u8"), "uint64_val"),
    _Kind(types_pb2.DT_BOOL, np.dtype("?"), "bool_val"),
    _Kind(types_pb2.DT_COMPLEX64, np.dtype("<c8"), "scomplex_val"),
    _Kind(types_pb2.DT_COMPLEX128, np.dtype("<c16"), "dcomplex_val"),
    _Kind(types_pb2.DT_STRING, np.dtype(object), "string_val"),
]
_BY_DTYPE = {k.dtype: k for k in _KINDS}
_BY_NUMPY = {k.numpy.newbyteorder("=") if k.numpy.kind not in "O" else k.numpy: k for k in _KINDS}

# TF's own names, used in error messages ("Expects arg[0] to be float but string is provided").
TF_TYPE_NAMES = {
    types_pb2.DT_FLOAT: "float",
    types_pb2.DT_DOUBLE: "double",
    types_pb2.DT_HALF: "half",
    types_pb2.DT_INT8: "int8",
    types_pb2.DT_INT16: "int16",
    types_pb2.DT_INT32: "int32",
    types_pb2.DT_INT64: "int64",
    types_pb2.DT_UINT8: "uint8",
    types_pb2.DT_UINT16: "uint16",
    types_pb2.DT_UINT32: "uint32",
    types_pb2.DT_UINT64: "uint64",
    types_pb2.DT_BOOL: "bool",
    types_pb2.DT_COMPLEX64: "complex64",
    types_pb2.DT_COMPLEX128: "complex128",
    types_pb2.DT_STRING: "string",
}


class TensorCodecError(ValueError):
    """The proto cannot become an array (unsupported dtype, bad shape, wrong content length)."""


def dtype_to_numpy(dtype: int) -> np.dtype:
    try:
        return _BY_DTYPE[dtype].numpy
    except KeyError:
        raise TensorCodecError(f"unsupported tensor dtype {types_pb2.DataType.Name(dtype) if dtype in types_pb2.DataType.values() else dtype}") from None


def numpy_to_dtype(dt: np.dtype) -> int:
    dt = np.dtype(dt)
    if dt.kind in "OSU":
        return types_pb2.DT_STRING
    kind = _BY_NUMPY.get(dt.newbyteorder("="))
    if kind is None:
        raise TensorCodecError(f"unsupported numpy dtype {dt}")
    return kind.dtype


def _string_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "U":
        return np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(array)
    if array.dtype.kind == "S":
        return array.astype(object)
    return array


def make_tensor_proto(array: np.ndarray | list | float | int | bytes | str, *, as_content: bool = True) -> tensor_pb2.TensorProto:
    """Encode ``array``; ``as_content`` writes ``tensor_content`` (the fast path), else the typed field."""
    proto = tensor_pb2.TensorProto()
    fill_tensor_proto(proto, array, as_content=as_content)
    return proto


def fill_tensor_proto(proto: tensor_pb2.TensorProto, array: np.ndarray | list | float | int | bytes | str, *, as_content: bool = True) -> None:
    """Encode ``array`` into an existing (empty) proto, e.g. ``request.inputs[alias]``: the bytes are written
    once, where they will be sent (``CopyFrom`` of a built proto would copy them a second time)."""
    array = np.asarray(array)
    dtype = numpy_to_dtype(array.dtype)
    proto.dtype = dtype
    proto.tensor_shape.dim.extend(tensor_pb2.TensorShapeProto.Dim(size=int(d)) for d in array.shape)
    if dtype == types_pb2.DT_STRING:
        values = _string_array(array).ravel()
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values)
        return
    kind = _BY_DTYPE[dtype]
    array = np.ascontiguousarray(array, dtype=kind.numpy)
    if as_content:
        proto.tensor_content = array.tobytes()
    elif dtype == types_pb2.DT_HALF:
        proto.half_val.extend(array.view("<u2").ravel().tolist())
    elif dtype in (types_pb2.DT_COMPLEX64, types_pb2.DT_COMPLEX128):
        getattr(proto, kind.field).extend(array.ravel().view(array.real.dtype).tolist())
    else:
        getattr(proto, kind.field).extend(array.ravel().tolist())


def tensor_shape(proto: tensor_pb2.TensorProto) -> tuple[int, ...]:
    if proto.tensor_shape.unknown_rank:
        raise TensorCodecError("tensor shape has unknown rank")
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    if any(d < 0 for d in shape):
        raise TensorCodecError(f"tensor shape {list(shape)} has a negative dimension")
    return shape


def make_ndarray(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Decode a TensorProto the way TensorFlow does; raises TensorCodecError when it cannot."""
    kind = _BY_DTYPE.get(proto.dtype)
    if kind is None:
        raise TensorCodecError(f"unsupported tensor dtype {proto.dtype}")
    shape = tensor_shape(proto)
    n = math.prod(shape)  # Python ints: exact for any size, and a fraction of np.prod's call overhead
    if proto.tensor_content and proto.dtype != types_pb2.DT_STRING:
        if len(proto.tensor_content) != n * kind.numpy.itemsize:
            raise TensorCodecError(
                f"tensor_content holds {len(proto.tensor_content)} bytes but shape {list(shape)} of {TF_TYPE_NAMES[proto.dtype]} needs {n * kind.numpy.itemsize}"
            )
        return np.frombuffer(proto.tensor_content, dtype=kind.numpy).reshape(shape).astype(kind.numpy.newbyteorder("="), copy=False)
    if proto.dtype == types_pb2.DT_STRING:
        values = np.empty(len(proto.string_val), dtype=object)
        values[:] = list(proto.string_val)
    elif proto.dtype == types_pb2.DT_HALF:
        values = np.asarray(proto.half_val, dtype=np.uint16).view(np.float16)
    elif proto.dtype in (types_pb2.DT_COMPLEX64, types_pb2.DT_COMPLEX128):
        parts = np.asarray(getattr(proto, kind.field), dtype=kind.numpy.type(0).real.dtype)
        if parts.size % 2:
            raise TensorCodecError("complex values must come in (real, imaginary) pairs")
        values = parts.view(kind.numpy.newbyteorder("="))
    else:
        values = np.asarray(getattr(proto, kind.field), dtype=kind.numpy.newbyteorder("="))
    return _fill(values, n, shape, kind)


def _fill(values: np.ndarray, n: int, shape: tuple[int, ...], kind: _Kind) -> np.ndarray:
    if values.size == n:
        return values.reshape(shape)
    if values.size > n:
        raise TensorCodecError(f"{kind.field} holds {values.size} values but shape {list(shape)} has {n} elements")
    if values.size == 0:
        if kind.numpy.kind == "O":
            out = np.empty(n, dtype=object)
            out[:] = b""
            return out.reshape(shape)
        return np.zeros(shape, dtype=kind.numpy.newbyteorder("="))
    out = np.empty(n, dtype=values.dtype)
    out[: values.size] = values
    out[values.size :] = values[-1]
    return out.reshape(shape)
