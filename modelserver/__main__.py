"""`python -m modelserver --port 8500 --model_config_file servables/models.config ...`

SIGTERM (and Ctrl-C) drain in-flight requests, then the process exits 0 (TF Serving does not drain).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from modelserver.config import ConfigError, parse_args
from modelserver.server import ModelServer


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    log = logging.getLogger("modelserver")
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: draining", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = ModelServer(options)
    try:
        port = server.start()
    except (ConfigError, OSError, RuntimeError) as e:
        log.error("cannot start: %s", e)
        server.stop(grace=0)
        return 2
    log.info("serving gRPC on 0.0.0.0:%d (models.config %s)", port, options.model_config_file)
    if server.rest is not None:
        log.info("exporting HTTP/REST API at http://0.0.0.0:%d/v1/models/...", server.rest_port)
    if server.rest is not None and server.rest.prometheus_path:
        log.info("Prometheus metrics at http://0.0.0.0:%d%s", server.rest_port, server.rest.prometheus_path)
    if options.monitoring_port:
        log.info("Prometheus metrics at http://0.0.0.0:%d/metrics (--monitoring_port)", options.monitoring_port)
    while not stop.wait(0.5):
        pass
    server.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
