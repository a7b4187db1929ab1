"""TF Serving's REST JSON <-> numpy: the rules and message texts of tensorflow_serving/util/json_tensor.cc.

Why by hand and not a generic JSON <-> array helper: TF Serving's clients see its exact behaviour, and that is
specific — tensor shapes come from the first element of each nested list, JSON numbers are typed the way
rapidjson types them (`1` is an int, `1.0` is not), `{"b64": ...}` is bytes for DT_STRING, `NaN` and
`Infinity` are numbers, floats are written with six significant digits unless that does not round-trip, and
every error names the offending JSON value printed as rapidjson prints it. Parsing uses the standard `json`
module (which accepts `NaN`/`Infinity`); only the messages are mapped to rapidjson's words.

Nothing here runs a model or imports TensorFlow at import time: `examples` imports TF's Example proto when it
is called (the model server process has TensorFlow loaded anyway).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np

from modelserver.errors import InvalidArgument, ServingError, Unimplemented, status_string
from modelserver.predict import dtype_name
from protos import codec, types_pb2

ROW = "row"  # request had "instances": answer "predictions"
COLUMNAR = "columnar"  # request had "inputs": answer "outputs"
BYTES_SUFFIX = "_bytes"  # DT_STRING outputs with this suffix are written as {"b64": ...}
DEBUG_STRING_LIMIT = 256  # rapidjson debug strings in error messages stop past this many bytes

_INT_RANGES = {
    types_pb2.DT_INT8: (-(2**31), 2**31 - 1),  # rapidjson IsInt(): int32 range, then TF casts
    types_pb2.DT_INT16: (-(2**31), 2**31 - 1),
    types_pb2.DT_INT32: (-(2**31), 2**31 - 1),
    types_pb2.DT_UINT8: (-(2**31), 2**31 - 1),
    types_pb2.DT_INT64: (-(2**63), 2**63 - 1),
    types_pb2.DT_UINT32: (0, 2**32 - 1),
    types_pb2.DT_UINT64: (0, 2**64 - 1),
}
_NUMPY = {
    types_pb2.DT_FLOAT: np.float32,
    types_pb2.DT_DOUBLE: np.float64,
    types_pb2.DT_INT8: np.int8,
    types_pb2.DT_INT16: np.int16,
    types_pb2.DT_INT32: np.int32,
    types_pb2.DT_UINT8: np.uint8,
    types_pb2.DT_INT64: np.int64,
    types_pb2.DT_UINT32: np.uint32,
    types_pb2.DT_UINT64: np.uint64,
    types_pb2.DT_BOOL: np.bool_,
    types_pb2.DT_STRING: object,
}
_WIDE = {types_pb2.DT_INT8, types_pb2.DT_INT16, types_pb2.DT_UINT8}  # parsed as int32, then cast (wraps, as TF)

# --- parsing ----------------------------------------------------------------------------------------------


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """rapidjson's FindMember returns the first of duplicate keys."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_first_wins)
_PYTHON_TO_RAPIDJSON = {
    "Expecting value": "Invalid value.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Illegal trailing comma before end of object": "Missing a name for object member.",
    "Illegal trailing comma before end of array": "Invalid value.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
    "Invalid control character at": "Invalid encoding in string.",
    "Invalid \\escape": "Invalid escape character in string.",
    "Invalid \\uXXXX escape": "Incorrect hex digit after \\u escape in string.",
}


def _innermost_container(text: str, pos: int) -> str:
    """'{' or '[' that is open at `pos` (strings skipped), to word a missing comma as rapidjson does."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else "{"


def parse_json(body: bytes) -> dict[str, Any]:
    """TF Serving's ParseJson: the body must hold a JSON object; text after the first value is ignored."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"JSON Parse error: Invalid encoding in string. at offset: {e.start}") from None
    start = len(text) - len(text.lstrip(" \t\n\r"))
    if start == len(text):
        raise InvalidArgument("JSON Parse error: The document is empty")
    try:
        doc, _end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as e:
        message = _PYTHON_TO_RAPIDJSON.get(e.msg)
        if message is None and e.msg == "Expecting ',' delimiter":
            opened = _innermost_container(text, e.pos)
            message = "Missing a comma or ']' after an array element." if opened == "[" else "Missing a comma or '}' after an object member."
        offset = len(text[: e.pos].encode("utf-8"))
        raise InvalidArgument(f"JSON Parse error: {message or e.msg} at offset: {offset}") from None
    except RecursionError:
        raise InvalidArgument("JSON Parse error: Terminate parsing due to Handler error. at offset: 0") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} Is not object")
    return doc


def signature_name(doc: Mapping[str, Any]) -> str:
    """The optional "signature_name" key ("" when absent)."""
    value = doc.get("signature_name", "")
    if not isinstance(value, str):
        raise InvalidArgument(
            f"JSON Value: {debug_string(doc)} not formatted correctly. 'signature_name' key must be a string value."
        )
    return value


# --- rapidjson's view of values ----------------------------------------------------------------------------


def json_type(value: Any) -> str:
    """rapidjson's type names (JsonTypeString)."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def _is_int(value: Any) -> bool:
    """A JSON integer token that rapidjson keeps as an integer (it turns integers past uint64 into doubles)."""
    return type(value) is int and -(2**63) <= value < 2**64


def is_b64_object(value: Any) -> bool:
    """{"b64": "<string>"} and nothing else."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _b64decode(value: Any) -> bytes:
    if not is_b64_object(value):
        raise InvalidArgument(f"JSON Value: {debug_string(value)} not formatted correctly for base64 data")
    text = value["b64"].strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("Unable to base64 decode") from None


class _Stop(Exception):
    pass


class _DebugWriter:
    """rapidjson's PrettyWriter with single-line arrays, cut once DEBUG_STRING_LIMIT bytes are written."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.stack: list[list] = []  # [is_array, value_count]

    def _put(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode("utf-8", "surrogateescape"))

    def _event(self) -> None:
        if self.size >= DEBUG_STRING_LIMIT:
            raise _Stop

    def _prefix(self) -> None:
        if not self.stack:
            return
        level = self.stack[-1]
        if level[0]:
            if level[1] > 0:
                self._put(", ")
        else:
            if level[1] > 0:
                self._put(",\n" if level[1] % 2 == 0 else ": ")
            else:
                self._put("\n")
            if level[1] % 2 == 0:
                self._put("    " * len(self.stack))
        level[1] += 1

    def write(self, value: Any) -> None:
        self._event()
        if isinstance(value, dict):
            self._prefix()
            self._put("{")
            self.stack.append([False, 0])
            for key, item in value.items():
                self._event()
                self._prefix()
                self._put(json_string(key))
                self.write(item)
            self._end()
        elif isinstance(value, list):
            self._prefix()
            self._put("[")
            self.stack.append([True, 0])
            for item in value:
                self.write(item)
            self._end()
        else:
            self._prefix()
            if isinstance(value, float) and not math.isfinite(value):
                raise _Stop  # rapidjson's default writer refuses NaN/Infinity and stops there
            self._put(_scalar_debug(value))

    def _end(self) -> None:
        self._event()
        is_array, count = self.stack.pop()
        if not is_array and count > 0:
            self._put("\n" + "    " * len(self.stack))
        self._put("]" if is_array else "}")


def _scalar_debug(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json_string(value)
    if _is_int(value):
        return str(value)
    return rapidjson_double(float(value))


def debug_string(value: Any) -> str:
    """A JSON value as TF Serving prints it in error messages (JsonValueToDebugString)."""
    writer = _DebugWriter()
    try:
        writer.write(value)
    except _Stop:
        pass
    return "".join(writer.parts)


def rapidjson_double(value: float) -> str:
    """rapidjson's Writer::Double: shortest round-trip digits laid out by its Prettify rules."""
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    leading_zeros = len(int_part + frac_part) - len(digits)
    kk = len(int_part) - leading_zeros + (int(exp_text) if exp_text else 0)  # value = 0.digits * 10**kk
    digits = digits.rstrip("0") or "0"
    length = len(digits)
    k = kk - length
    if 0 <= k and kk <= 21:
        text = digits + "0" * k + ".0"
    elif 0 < kk <= 21:
        text = digits[:kk] + "." + digits[kk:]
    elif -6 < kk <= 0:
        text = "0." + "0" * -kk + digits
    elif length == 1:
        text = f"{digits}e{kk - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + text


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_TABLE = {i: _ESCAPES.get(chr(i), f"\\u{i:04X}") for i in range(0x20)}
_ESCAPE_TABLE.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def json_string(text: str) -> str:
    """rapidjson's string escaping (control characters, quote, backslash; everything else as is)."""
    return '"' + text.translate(_ESCAPE_TABLE) + '"'


def _bytes_string(raw: bytes) -> str:
    """A DT_STRING value written as a JSON string: its bytes as they are (invalid UTF-8 kept, as rapidjson)."""
    return json_string(raw.decode("utf-8", "surrogateescape"))


# --- JSON -> tensors ---------------------------------------------------------------------------------------


def _type_error(value: Any, dtype: int) -> InvalidArgument:
    return InvalidArgument(
        f"JSON Value: {debug_string(value)} Type: {json_type(value)} is not of expected type: {dtype_name(dtype)}"
    )


def _scalar(value: Any, dtype: int) -> Any:
    """AddValueToTensor: one JSON scalar as a value of `dtype`, with rapidjson's type tests."""
    if dtype in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
        if type(value) is float or type(value) is int:
            return value
    elif dtype in _INT_RANGES:
        low, high = _INT_RANGES[dtype]
        if type(value) is int and low <= value <= high:
            return value
    elif dtype == types_pb2.DT_STRING:
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
    elif dtype == types_pb2.DT_BOOL:
        if isinstance(value, bool):
            return value
    else:
        raise Unimplemented(f"Conversion of JSON Value: {debug_string(value)} to type: {dtype_name(dtype)}")
    raise _type_error(value, dtype)


def _dense_shape(value: Any) -> list[int]:
    """GetDenseTensorShape: list lengths down the first elements."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _fill(value: Any, level: int, shape: Sequence[int], dtype: int, out: list) -> None:
    """FillTensorProto: values in row-major order, checking every list against `shape`."""
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise InvalidArgument(
                f"JSON Value: {debug_string(value)} found at incorrect level: {level + 1} in the JSON DOM. Expected at level: {rank}"
            )
        if isinstance(value, dict):
            if dtype != types_pb2.DT_STRING:
                raise _type_error(value, dtype)
            out.append(_b64decode(value))
        else:
            out.append(_scalar(value, dtype))
        return
    if level >= rank:
        raise InvalidArgument(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise InvalidArgument(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected size: {shape[level]}"
        )
    if level == rank - 1 and dtype in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
        # the common case (a row of numbers) without a call per value; any other value takes the slow path
        if all(type(v) is float or type(v) is int for v in value):
            out.extend(value)
            return
    for item in value:
        _fill(item, level + 1, shape, dtype, out)


def _array(values: list, shape: Sequence[int], dtype: int) -> np.ndarray:
    if dtype == types_pb2.DT_STRING:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    if dtype in _WIDE:
        return np.array(values, dtype=np.int64).astype(_NUMPY[dtype]).reshape(shape)
    if dtype in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
        with np.errstate(over="ignore"):  # a double past float range becomes inf, as a C++ cast does
            return np.array(values, dtype=np.float64).astype(_NUMPY[dtype]).reshape(shape)
    return np.array(values, dtype=_NUMPY[dtype]).reshape(shape)


def tensor_from_json(value: Any, dtype: int) -> np.ndarray:
    """One tensor given in its natural nested form (a scalar is a tensor of shape [])."""
    shape = _dense_shape(value)
    out: list = []
    _fill(value, 0, shape, dtype, out)
    return _array(out, shape, dtype)


def _is_element_object(value: Any) -> bool:
    return isinstance(value, dict) and not is_b64_object(value)


def _shape_text(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


class _Batch:
    """The tensors of one "instances" list, each element appended along a new 0th dimension."""

    def __init__(self, dtypes: Mapping[str, int]) -> None:
        self.dtypes = dtypes
        self.values: dict[str, list] = {}
        self.shapes: dict[str, list[int]] = {}
        self.sizes: dict[str, int] = {}

    def add(self, item: Any, name: str) -> None:
        """AddInstanceItem."""
        if name not in self.dtypes:
            raise InvalidArgument(f"JSON object: does not have named input: {name}")
        shape = _dense_shape(item)
        out: list = []
        _fill(item, 0, shape, self.dtypes[name], out)
        if name not in self.sizes:
            self.sizes[name], self.shapes[name] = len(out), shape
        elif self.sizes[name] != len(out):
            raise InvalidArgument(f"Expecting tensor size: {self.sizes[name]} but got: {len(out)}")
        elif self.shapes[name] != shape:
            raise InvalidArgument(f"Expecting shape {_shape_text(self.shapes[name])} but got: {_shape_text(shape)}")
        self.values.setdefault(name, []).extend(out)

    def arrays(self, count: int) -> dict[str, np.ndarray]:
        return {name: _array(values, [count, *self.shapes[name]], self.dtypes[name]) for name, values in self.values.items()}


def _from_instances(instances: list, dtypes: Mapping[str, int]) -> dict[str, np.ndarray]:
    """FillTensorMapFromInstancesList."""
    names = sorted(dtypes)
    if not isinstance(instances[0], dict) and len(dtypes) > 1:
        raise InvalidArgument(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map"
        )
    objects = _is_element_object(instances[0])
    batch = _Batch(dtypes)
    for count, element in enumerate(instances):
        if objects:
            if not _is_element_object(element):
                raise InvalidArgument(f"Expecting object but got list at item {count} of input list")
            for name, item in element.items():
                try:
                    batch.add(item, name)
                except ServingError as e:
                    raise InvalidArgument(
                        f"Failed to process element: {count} key: {name} of 'instances' list. Error: {status_string(e)}"
                    ) from None
            if set(element) != set(names):
                raise InvalidArgument(
                    f"Failed to process element: {count} of 'instances' list. JSON object: {debug_string(element)} "
                    f"keys must be equal to: {','.join(names)}"
                )
        else:
            if _is_element_object(element):
                raise InvalidArgument(f"Expecting value/list but got object at item {count} of input list")
            try:
                batch.add(element, names[0])
            except ServingError as e:
                raise InvalidArgument(f"Failed to process element: {count} of 'instances' list. Error: {status_string(e)}") from None
    return batch.arrays(len(instances))


def _from_inputs(value: Any, dtypes: Mapping[str, int]) -> dict[str, np.ndarray]:
    """FillTensorMapFromInputsMap: one plain value/list, or an object naming every input (extra keys ignored)."""
    names = sorted(dtypes)
    if not isinstance(value, dict) or is_b64_object(value):
        if len(dtypes) > 1:
            raise InvalidArgument(
                "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map"
            )
        return {names[0]: tensor_from_json(value, dtypes[names[0]])}
    tensors = {}
    for name in names:
        if name not in value:
            raise InvalidArgument(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = tensor_from_json(value[name], dtypes[name])
    return tensors


def predict_inputs(doc: Mapping[str, Any], dtypes: Mapping[str, int], signame: str) -> tuple[dict[str, np.ndarray], str]:
    """FillPredictRequestFromJson after the signature is known: (input alias -> array, ROW or COLUMNAR)."""
    if not dtypes:
        raise InvalidArgument(f"Failed to get input map for signature: {signame or 'DEFAULT'}")
    if "instances" in doc:
        if "inputs" in doc:
            raise InvalidArgument(
                f"JSON Value: {debug_string(doc)} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist "
            )
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise InvalidArgument(f"JSON Value: {debug_string(doc)} Expecting 'instances' to be an list/array")
        if not instances:
            raise InvalidArgument(f"JSON Value: {debug_string(doc)} No values in 'instances' array")
        return _from_instances(instances, dtypes), ROW
    if "inputs" in doc:
        return _from_inputs(doc["inputs"], dtypes), COLUMNAR
    raise InvalidArgument("Missing 'inputs' or 'instances' key")


# --- classify / regress requests ---------------------------------------------------------------------------


def _add_feature_value(value: Any, name: str, feature: Any) -> None:
    """AddValueToFeature: the first value fixes the feature's kind; later ones must agree."""
    kind = feature.WhichOneof("kind")

    def expect(wanted: str) -> None:
        if kind is not None and kind != wanted:
            raise InvalidArgument(
                f"Unexpected element type in feature: {name} expecting type: {kind.removesuffix('_list')}"
            )

    if value is None or isinstance(value, list) or (isinstance(value, dict) and not is_b64_object(value)):
        raise InvalidArgument(f"Feature: {name} has element with unexpected JSON type: {json_type(value)}")
    if isinstance(value, bool):
        expect("int64_list")
        feature.int64_list.value.append(1 if value else 0)
    elif isinstance(value, dict):
        expect("bytes_list")
        feature.bytes_list.value.append(_b64decode(value))
    elif isinstance(value, str):
        expect("bytes_list")
        feature.bytes_list.value.append(value.encode("utf-8", "surrogateescape"))
    elif _is_int(value):
        expect("int64_list")
        if value >= 2**63:
            raise InvalidArgument(f"Feature: {name} has uint64_t element. Only int64_t is supported.")
        feature.int64_list.value.append(value)
    else:
        expect("float_list")
        feature.float_list.value.append(float(value))


def _example(value: Any) -> bytes:
    """MakeExampleFromJsonObject, serialized."""
    from tensorflow.core.example import example_pb2

    if not isinstance(value, dict):
        raise InvalidArgument(f"Example must be JSON object but got JSON {json_type(value)}")
    example = example_pb2.Example()
    for name, content in value.items():
        feature = example.features.feature[name]
        for item in content if isinstance(content, list) else [content]:
            _add_feature_value(item, name, feature)
    return example.SerializeToString()


def examples(doc: Mapping[str, Any]) -> list[bytes]:
    """FillClassifyRegressRequestFromJson: serialized tf.Examples, each prefixed with the serialized "context"
    (TF Serving feeds ExampleListWithContext as context bytes + example bytes: proto merge, example wins)."""
    context = _example(doc["context"]) if "context" in doc else b""
    items = doc.get("examples")
    if "examples" not in doc:
        # TF Serving's words, for :regress too
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} When method is classify, key 'examples' is expected and was not found")
    if not isinstance(items, list):
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} Expecting 'examples' value to be an list/array")
    if not items:
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} 'examples' value is an empty array")
    return [context + _example(item) for item in items]


# --- tensors -> JSON ---------------------------------------------------------------------------------------


def float_text(value: float, *, double: bool = False) -> str:
    """WriteDecimal: six significant digits if they round-trip, else max_digits10; whole numbers get ".0"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = f"{value:.6g}"
    if (float(text) if double else np.float32(text)) != value:
        text = f"{value:.17g}" if double else f"{value:.9g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _float_tokens(values: list, double: bool) -> list[str]:
    return [float_text(v, double=double) for v in values]


def _tokens(name: str, array: np.ndarray) -> list[str]:
    """Every value of a tensor as JSON text, row-major (AddSingleValueAndAdvance)."""
    try:
        dtype = codec.numpy_to_dtype(array.dtype)
    except codec.TensorCodecError:
        raise InvalidArgument(f"Failed to write JSON value for tensor type: {array.dtype}") from None
    flat = array.ravel()
    if flat.size == 0:
        return []
    if dtype == types_pb2.DT_FLOAT:
        return _float_tokens(flat.tolist(), False)
    if dtype == types_pb2.DT_DOUBLE:
        return _float_tokens(flat.tolist(), True)
    if dtype in (types_pb2.DT_INT8, types_pb2.DT_INT16, types_pb2.DT_INT32, types_pb2.DT_UINT8, types_pb2.DT_INT64,
                 types_pb2.DT_UINT32, types_pb2.DT_UINT64):  # fmt: skip
        return [str(v) for v in flat.tolist()]
    if dtype == types_pb2.DT_BOOL:
        return ["true" if v else "false" for v in flat.tolist()]
    if dtype == types_pb2.DT_STRING:
        raw = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in flat.tolist()]
        if name.endswith(BYTES_SUFFIX):
            return ['{"b64": "' + base64.b64encode(v).decode("ascii") + '"}' for v in raw]
        return [_bytes_string(v) for v in raw]
    raise InvalidArgument(f"Failed to write JSON value for tensor type: {dtype_name(dtype)}")


def _nest(tokens: list[str], shape: Sequence[int]) -> str:
    """Nested JSON lists of `shape` around row-major tokens (a scalar is its token)."""
    if not shape:
        return tokens[0]
    if 0 in shape:
        def empty(dims: Sequence[int]) -> str:
            if len(dims) == 1 or dims[0] == 0:
                return "[]"
            return "[" + ", ".join(empty(dims[1:]) for _ in range(dims[0])) + "]"

        return empty(shape)
    for size in reversed(shape):
        tokens = ["[" + ", ".join(tokens[i : i + size]) + "]" for i in range(0, len(tokens), size)]
    return tokens[0]


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def predict_response(outputs: Mapping[str, np.ndarray], fmt: str) -> bytes:
    """MakeJsonFromTensors: {"predictions": [...]} for ROW, {"outputs": ...} for COLUMNAR; a single output is
    written without its name."""
    if not outputs:
        raise InvalidArgument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    arrays = {name: np.asarray(outputs[name]) for name in names}
    if fmt == COLUMNAR:
        parts = {name: _nest(_tokens(name, a), a.shape) for name, a in arrays.items()}
        body = parts[names[0]] if len(names) == 1 else "{" + ", ".join(f"{json_string(n)}: {parts[n]}" for n in names) + "}"
        return _encode('{\n    "outputs": ' + body + "\n}")
    batch = -1
    for name, array in arrays.items():
        if array.ndim == 0:
            raise InvalidArgument(f"Tensor name: {name} has no shape information ")
        if batch >= 0 and batch != array.shape[0]:
            raise InvalidArgument(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
        batch = array.shape[0]
    items: list[dict[str, str]] = [{} for _ in range(batch)]
    for name, array in arrays.items():
        tokens = _tokens(name, array)
        per_item = math.prod(array.shape[1:])
        for i in range(batch):
            items[i][name] = _nest(tokens[i * per_item : (i + 1) * per_item], array.shape[1:])
    if len(names) == 1:
        rows = [item[names[0]] for item in items]
    else:
        rows = ["{" + ", ".join(f"{json_string(n)}: {item[n]}" for n in names) + "}" for item in items]
    return _encode('{\n    "predictions": [\n        ' + ",\n        ".join(rows) + ("\n    ]\n}" if rows else "]\n}"))


def classification_response(results: Sequence[Sequence[tuple[bytes, float]]]) -> bytes:
    """MakeJsonFromClassificationResult: {"results": [[[label, score], ...], ...]}."""
    if not results:
        raise InvalidArgument("Cannot convert empty ClassificationResults to JSON")
    rows = ["[" + ", ".join(f"[{_bytes_string(label)}, {float_text(score)}]" for label, score in classes) + "]" for classes in results]
    return _encode('{\n    "results": [\n        ' + ",\n        ".join(rows) + "\n    ]\n}")


def regression_response(values: Sequence[float]) -> bytes:
    """MakeJsonFromRegressionResult: {"results": [v, ...]}."""
    if not values:
        raise InvalidArgument("Cannot convert empty RegressionResults to JSON")
    return _encode('{\n    "results": [' + ", ".join(float_text(v) for v in values) + "]\n}")


def error_body(message: str) -> bytes:
    """MakeJsonFromStatus: {"error": "<message>"}."""
    return _encode('{\n    "error": ' + json_string(message) + "\n}")
