"""protos.codec against TensorFlow's own tf.make_tensor_proto / tf.make_ndarray (property-based)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorflow.core.framework import tensor_pb2 as tf_tensor_pb2

from protos import codec, tensor_pb2, types_pb2

NUMERIC = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
           np.uint32, np.uint64, np.bool_, np.complex64, np.complex128]
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


def arrays_of(dtype):
    return hnp.arrays(dtype, shapes, elements=None if dtype not in (np.float16, np.float32, np.float64) else
                      st.floats(width=np.dtype(dtype).itemsize * 8, allow_nan=False))


def _ours_to_official(p: tensor_pb2.TensorProto) -> tf_tensor_pb2.TensorProto:
    return tf_tensor_pb2.TensorProto.FromString(p.SerializeToString())


def _official_to_ours(p: tf_tensor_pb2.TensorProto) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto.FromString(p.SerializeToString())


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("as_content", [True, False], ids=["tensor_content", "typed_val"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_our_encoding_decodes_in_tensorflow(dtype, as_content, data) -> None:
    array = data.draw(arrays_of(dtype))
    decoded = tf.make_ndarray(_ours_to_official(codec.make_tensor_proto(array, as_content=as_content)))
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: np.dtype(d).name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_tensorflow_encoding_decodes_with_ours(dtype, data) -> None:
    array = data.draw(arrays_of(dtype))
    decoded = codec.make_ndarray(_official_to_ours(tf.make_tensor_proto(array)))
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)


@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(object, shapes, elements=st.binary(max_size=8)))
def test_strings_both_ways(values) -> None:
    ours = codec.make_ndarray(_official_to_ours(tf.make_tensor_proto(values, dtype=tf.string)))
    assert ours.shape == values.shape and list(ours.ravel()) == list(values.ravel())
    theirs = tf.make_ndarray(_ours_to_official(codec.make_tensor_proto(values)))
    assert list(theirs.ravel()) == list(values.ravel())


@pytest.mark.parametrize(
    "field,values,dtype,shape",
    [
        ("float_val", [1.5], types_pb2.DT_FLOAT, [2, 3]),  # single value broadcasts
        ("float_val", [1.0, 2.0], types_pb2.DT_FLOAT, [4]),  # last value repeats
        ("int64_val", [], types_pb2.DT_INT64, [3]),  # none means zeros
        ("int_val", [7], types_pb2.DT_INT32, [2, 2]),
        ("bool_val", [True], types_pb2.DT_BOOL, [3]),
        ("double_val", [0.25], types_pb2.DT_DOUBLE, []),
    ],
)
def test_typed_fields_fill_like_tensorflow(field, values, dtype, shape) -> None:
    official = tf_tensor_pb2.TensorProto(dtype=dtype)
    for d in shape:
        official.tensor_shape.dim.add(size=d)
    getattr(official, field).extend(values)
    expected = tf.make_ndarray(official)
    got = codec.make_ndarray(_official_to_ours(official))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_rejects_what_tensorflow_rejects() -> None:
    p = codec.make_tensor_proto(np.zeros((2, 3), np.float32))
    p.tensor_content = p.tensor_content[:-4]
    with pytest.raises(codec.TensorCodecError, match="tensor_content"):
        codec.make_ndarray(p)
    too_many = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1, 2, 3])
    too_many.tensor_shape.dim.add(size=2)
    with pytest.raises(codec.TensorCodecError):
        codec.make_ndarray(too_many)
    with pytest.raises(codec.TensorCodecError, match="unsupported"):
        codec.make_ndarray(tensor_pb2.TensorProto(dtype=types_pb2.DT_RESOURCE))
    neg = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    neg.tensor_shape.dim.add(size=-1)
    with pytest.raises(codec.TensorCodecError, match="negative"):
        codec.make_ndarray(neg)


def test_unicode_strings_encode_as_utf8() -> None:
    p = codec.make_tensor_proto(np.array(["微信", "ok"]))
    assert list(p.string_val) == ["微信".encode(), b"ok"]
