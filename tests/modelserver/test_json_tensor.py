"""modelserver.json_tensor without a server: TF Serving's JSON rules (json_tensor.cc and its tests'
expectations), value by value."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelserver import json_tensor as jt
from modelserver.errors import InvalidArgument, Unimplemented
from protos import types_pb2 as T


@pytest.mark.parametrize(
    "value, double, text",
    [
        (3.0, False, "3.0"),
        (float(np.float32(0.1)), False, "0.1"),
        (float(np.float32(1 / 3)), False, "0.333333343"),  # six digits do not round-trip: max_digits10 (9)
        (1 / 3, True, "0.33333333333333331"),  # double: 17
        (-0.0, False, "-0.0"),
        (1e-5, True, "1e-05"),
        (float("nan"), False, "NaN"),
        (float("-inf"), True, "-Infinity"),
    ],
)
def test_float_text_is_write_decimal(value, double, text):
    assert jt.float_text(value, double=double) == text


@pytest.mark.parametrize(
    "value, text",
    [(2.0, "2.0"), (0.5, "0.5"), (1e21, "1e21"), (1e20, "100000000000000000000.0"), (1e-7, "1e-7"), (0.000001, "0.000001"), (-12.5, "-12.5"), (1.5e300, "1.5e300")],
)
def test_debug_numbers_are_rapidjson_doubles(value, text):
    assert jt.rapidjson_double(value) == text


def test_debug_string_is_rapidjsons_pretty_single_line_arrays_and_is_cut_at_256_bytes():
    assert jt.debug_string({"a": [1, 2.5, "x"], "b": {"c": None}}) == '{\n    "a": [1, 2.5, "x"],\n    "b": {\n        "c": null\n    }\n}'
    assert jt.debug_string([{"b64": "QQ=="}]) == '[{\n        "b64": "QQ=="\n    }]'
    long = jt.debug_string({"instances": list(range(1000))})
    assert 256 <= len(long) < 270 and not long.endswith("}")
    assert jt.debug_string([1.0, float("nan"), 2.0]) == "[1.0, "  # rapidjson's writer stops at NaN
    assert jt.json_string('a"\\\n\x01é') == '"a\\"\\\\\\n\\u0001é"'


def test_numbers_are_typed_as_rapidjson_types_them():
    tensors, fmt = jt.predict_inputs({"inputs": {"i": [1, -2], "f": [1, 2.5], "b": [True], "u": [4294967295]}},
                                     {"i": T.DT_INT32, "f": T.DT_FLOAT, "b": T.DT_BOOL, "u": T.DT_UINT32}, "")  # fmt: skip
    assert fmt == jt.COLUMNAR
    assert tensors["i"].dtype == np.int32 and tensors["f"].tolist() == [1.0, 2.5] and tensors["b"].tolist() == [True]
    assert tensors["u"].dtype == np.uint32
    for value, dtype, words in [
        (1.0, T.DT_INT32, "JSON Value: 1.0 Type: Number is not of expected type: int32"),
        (2**31, T.DT_INT32, "JSON Value: 2147483648 Type: Number is not of expected type: int32"),
        (-1, T.DT_UINT64, "JSON Value: -1 Type: Number is not of expected type: uint64"),
        (True, T.DT_INT64, "JSON Value: true Type: True is not of expected type: int64"),
        ("1", T.DT_BOOL, 'JSON Value: "1" Type: String is not of expected type: bool'),
        (None, T.DT_DOUBLE, "JSON Value: null Type: Null is not of expected type: double"),
    ]:
        with pytest.raises(InvalidArgument) as info:
            jt.tensor_from_json(value, dtype)
        assert info.value.message == words
    with pytest.raises(Unimplemented) as info:
        jt.tensor_from_json([1.0], T.DT_HALF)
    assert info.value.message == "Conversion of JSON Value: 1.0 to type: half"


def test_instances_rows_get_a_batch_dimension_and_b64_is_bytes():
    tensors, fmt = jt.predict_inputs({"instances": [[[1, 2]], [[3, 4]]]}, {"x": T.DT_INT64}, "")
    assert fmt == jt.ROW and tensors["x"].shape == (2, 1, 2)
    tensors, _ = jt.predict_inputs({"instances": [{"b64": "AP8="}, "plain"]}, {"s": T.DT_STRING}, "")
    assert tensors["s"].tolist() == [b"\x00\xff", b"plain"]
    scalar, _ = jt.predict_inputs({"inputs": 7.5}, {"x": T.DT_FLOAT}, "")
    assert scalar["x"].shape == () and float(scalar["x"]) == 7.5
    with pytest.raises(InvalidArgument, match="^Failed to get input map for signature: DEFAULT$"):
        jt.predict_inputs({"instances": [1]}, {}, "")


def test_predict_responses():
    y = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert json.loads(jt.predict_response({"y": y}, jt.ROW)) == {"predictions": [[1.0, 2.0], [3.0, 4.0]]}
    assert json.loads(jt.predict_response({"y": y, "n": np.array([7, 8])}, jt.ROW)) == {"predictions": [{"n": 7, "y": [1.0, 2.0]}, {"n": 8, "y": [3.0, 4.0]}]}
    assert json.loads(jt.predict_response({"y": np.zeros((2, 0), np.float32)}, jt.COLUMNAR)) == {"outputs": [[], []]}
    assert json.loads(jt.predict_response({"y": np.float32(2.5)}, jt.COLUMNAR)) == {"outputs": 2.5}
    assert json.loads(jt.predict_response({"ok": np.array([True, False])}, jt.COLUMNAR)) == {"outputs": [True, False]}
    for outputs, fmt, words in [
        ({}, jt.ROW, "Cannot convert empty tensor map to JSON"),
        ({"s": np.float32(1.0)}, jt.ROW, "Tensor name: s has no shape information "),
        ({"a": np.zeros(2), "b": np.zeros(3)}, jt.ROW, "Tensor name: b has inconsistent batch size: 3 expecting: 2"),
        ({"h": np.zeros(2, np.float16)}, jt.COLUMNAR, "Failed to write JSON value for tensor type: half"),
    ]:
        with pytest.raises(InvalidArgument) as info:
            jt.predict_response(outputs, fmt)
        assert info.value.message == words


def test_examples_merge_the_context_and_type_features():
    from tensorflow.core.example import example_pb2

    serialized = jt.examples({"context": {"c": "ctx", "x": 1.0}, "examples": [{"x": [2.0, 3.0], "n": [1, True], "img": {"b64": "AQI="}}]})
    example = example_pb2.Example.FromString(serialized[0])  # context bytes + example bytes: the example's x wins
    features = example.features.feature
    assert list(features["x"].float_list.value) == [2.0, 3.0]
    assert features["c"].bytes_list.value == [b"ctx"]
    assert list(features["n"].int64_list.value) == [1, 1]
    assert features["img"].bytes_list.value == [b"\x01\x02"]


def test_error_body_escapes_like_rapidjson():
    assert jt.error_body('bad "x"\n') == b'{\n    "error": "bad \\"x\\"\\n"\n}'
