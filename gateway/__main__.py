"""`python -m gateway [--host H] [--port P] [--workers N] [--backend ADDR] [--servables DIR]`: run uvicorn.

Flags override the GATEWAY_* environment (they are exported so every worker process builds the same Settings).
SIGTERM/Ctrl-C: uvicorn stops accepting, waits up to GATEWAY_SHUTDOWN_TIMEOUT_S for in-flight requests, then
the app's lifespan closes the gRPC channel.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile

import uvicorn

from gateway.core.config import Settings


# Other spellings used by callers (servectl up); the canonical names are the Settings fields.
ENV_ALIASES = {"GATEWAY_BACKEND_ADDRESSES": "GATEWAY_BACKEND", "GATEWAY_SERVABLES_DIR": "GATEWAY_SERVABLES"}


def main(argv: list[str] | None = None) -> None:
    for alias, name in ENV_ALIASES.items():
        if os.environ.get(alias) and not os.environ.get(name):
            os.environ[name] = os.environ[alias]
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--backend", help="gRPC backend host:port (comma-separated for several)")
    parser.add_argument("--servables", help="model repository (models.config + versions)")
    parser.add_argument("--log-level")
    args = parser.parse_args(argv)
    for name in ("host", "port", "workers", "backend", "servables", "log_level"):
        value = getattr(args, name)
        if value is not None:
            os.environ[f"GATEWAY_{name.upper()}"] = str(value)
    settings = Settings()  # validate once here: a bad setting fails before any worker starts
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # every worker writes its samples here and /metrics merges them (gateway.metrics says why); the
        # directory must start empty, so it is made per run and removed when the gateway exits
        metrics_dir = tempfile.mkdtemp(prefix="gateway-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    uvicorn.run(
        "gateway.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        access_log=False,  # the gateway writes its own JSON access line
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s),
        server_header=False,
        http="httptools",  # uvicorn's C parser and uvloop, named rather than left to "auto"
        loop="uvloop",
    )


if __name__ == "__main__":
    main()
