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
    log.info(
        "serving gRPC on 0.0.0.0:%d (models.config %s)%s",
        port,
        options.model_config_file,
        f", metrics on http://0.0.0.0:{options.monitoring_port}/metrics" if options.monitoring_port else "",
    )
    while not stop.wait(0.5):
        pass
    server.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
