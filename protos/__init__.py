"""TensorFlow Serving's wire API, as our own messages (package ``tfsplatform``).

Why our own copies: a process that imports TensorFlow already holds ``tensorflow/core/framework/tensor.proto``
and ``tensorflow.serving.*`` in the protobuf descriptor pool; generating the same files again would clash.
The wire format carries only field numbers, so messages with equal numbers and types are interchangeable
with the official ones (``tests/protos/test_wire_compat.py`` proves it). gRPC methods are called by
TF Serving's method paths (see :mod:`protos.rpc`).
"""
