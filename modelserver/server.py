"""ModelServer: builds the chain (monitor -> manager -> core -> servicers) from ServerOptions, serves gRPC
with the standard health service, TF Serving's REST API when `--rest_api_port` is set (same core, same
handles), Prometheus metrics where asked (`--monitoring_config_file`: on the REST port; `--monitoring_port`:
a port of its own), and drains on stop.

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

from modelserver.config import ConfigError, ServerOptions, read_monitoring_config
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
        self.rest = None  # modelserver.http_server.RestServer once started
        self.rest_port = 0

    def start(self) -> int:
        """Start polling, loading and serving; returns the bound gRPC port. Models load in the background."""
        options = self.options
        prometheus = read_monitoring_config(options.monitoring_config_file)  # a bad file stops start-up, as in TF Serving
        if options.rest_api_port and options.rest_api_port == options.port:
            raise ConfigError(f"--rest_api_port {options.rest_api_port} cannot be the same as --port (gRPC)")
        if prometheus.enable and not options.rest_api_port:
            log.warning("--monitoring_config_file enables Prometheus, but it is served on the REST port: set --rest_api_port")
        self.core.start()  # reads models.config first: a file that does not parse stops us here
        host = options.grpc_bind_address
        self.port = self.grpc_server.add_insecure_port(f"[{host}]:{options.port}" if ":" in host else f"{host}:{options.port}")
        if self.port == 0:
            raise OSError(f"cannot bind gRPC port {options.port}")
        if options.rest_api_port:
            self._start_rest(prometheus.path if prometheus.enable else None)
        self.metrics.serve(options.monitoring_port)
        self.manager.start()
        self.grpc_server.start()
        for service in ("", rpc.PREDICTION_SERVICE, rpc.MODEL_SERVICE):
            self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    def _start_rest(self, prometheus_path: str | None) -> None:
        from prometheus_client import generate_latest

        from modelserver.http_server import RestServer
        from modelserver.rest import RestApi

        options = self.options
        api = RestApi(
            self.core,
            self.metrics,
            timeout_ms=options.rest_api_timeout_in_ms,
            cors=options.rest_api_enable_cors_support,
            prometheus_path=prometheus_path,
            metrics_page=lambda: generate_latest(self.metrics.registry),
        )
        self.rest = RestServer(
            api, options.rest_api_port, num_threads=options.rest_api_num_threads, drain_seconds=options.drain_timeout_seconds
        )
        self.rest_port = self.rest.start()

    def stop(self, grace: float | None = None) -> None:
        """Drain: refuse new RPCs and REST requests, let in-flight ones finish (up to `grace`), then unload."""
        grace = self.options.drain_timeout_seconds if grace is None else grace
        self.health.enter_graceful_shutdown()
        if self.rest is not None:
            self.rest.begin_stop()
        self.grpc_server.stop(grace).wait()
        if self.rest is not None:
            self.rest.stop(timeout=grace + 5)
        self.core.stop()
        self.manager.stop()
        self.metrics.close()
