"""ModelServer: builds the chain (monitor -> manager -> core -> servicers) from ServerOptions, serves gRPC
with the standard health service and Prometheus metrics, and drains on stop.

Why a synchronous gRPC server with a thread pool (not grpc.aio): every Predict ends in a blocking
`session.run`, which releases the GIL; running it on the RPC's own worker thread is what TF Serving does and
costs no extra hop from an event loop to an executor. The manager's loads run on their own thread, so a
slow load never blocks requests.
"""

from __future__ import annotations

import functools
import logging
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from modelserver.config import ServerOptions
from modelserver.core import ServerCore
from modelserver.manager import AspiredVersionsManager, LoaderFactory, ManagerOptions
from modelserver.metrics import ServerMetrics
from modelserver.service import Servicers
from modelserver.status import ServableStateMonitor
from protos import rpc

log = logging.getLogger(__name__)


class ModelServer:
    def __init__(self, options: ServerOptions, loader_factory: LoaderFactory | None = None) -> None:
        if loader_factory is None:
            from modelserver.loader import SessionThreads
            from modelserver.loader import loader_factory as tf_loader_factory

            threads = SessionThreads(options.tensorflow_intra_op_parallelism, options.tensorflow_inter_op_parallelism)
            loader_factory = functools.partial(tf_loader_factory, threads=threads)
        self.options = options
        self.metrics = ServerMetrics()
        self.monitor = ServableStateMonitor()
        self.metrics.attach(self.monitor)
        self.manager = AspiredVersionsManager(
            loader_factory,
            self.monitor,
            ManagerOptions(
                manage_state_interval_seconds=options.manage_state_interval_seconds,
                num_load_threads=options.num_load_threads,
                on_load=self.metrics.observe_load,
            ),
        )
        self.core = ServerCore(options, self.manager, self.monitor)
        self.health = health.HealthServicer()
        size = options.grpc_max_message_size
        self.grpc_server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=options.grpc_max_threads, thread_name_prefix="modelserver-rpc"),
            options=[
                ("grpc.max_send_message_length", size),
                ("grpc.max_receive_message_length", size),
                ("grpc.so_reuseport", 0),  # a port in use is an error, never silently shared
                *options.grpc_channel_arguments,
            ],
        )
        self.grpc_server.add_generic_rpc_handlers(
            Servicers(self.core, self.metrics, tensor_content=options.enable_serialization_as_tensor_content).handlers()
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc_server)
        self.port = 0

    def start(self) -> int:
        """Start polling, loading and serving; returns the bound gRPC port. Models load in the background."""
        self.core.start()  # reads models.config first: a file that does not parse stops us here
        host = self.options.grpc_bind_address
        self.port = self.grpc_server.add_insecure_port(f"[{host}]:{self.options.port}" if ":" in host else f"{host}:{self.options.port}")
        if self.port == 0:
            raise OSError(f"cannot bind gRPC port {self.options.port}")
        self.metrics.serve(self.options.monitoring_port)
        self.manager.start()
        self.grpc_server.start()
        for service in ("", rpc.PREDICTION_SERVICE, rpc.MODEL_SERVICE):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    def stop(self, grace: float | None = None) -> None:
        """Drain: refuse new RPCs, let in-flight ones finish (up to `grace`), then unload everything."""
        grace = self.options.drain_timeout_seconds if grace is None else grace
        self.health.enter_graceful_shutdown()
        self.grpc_server.stop(grace).wait()
        self.core.stop()
        self.manager.stop()
        self.metrics.close()
