"""Readiness of a TF Serving (or modelserver) replica: every published model in models.config is AVAILABLE.

Why a probe of our own: TF Serving's REST model-status endpoint answers 200 while a model is still loading,
and TF Serving registers no gRPC health service, so neither Kubernetes' httpGet nor its grpc probe can say
"this replica serves every model". This asks the replica's ModelService.GetModelStatus for each model that has
a published version (an integer directory under its base_path) and is ready only when each reports an
AVAILABLE version. Models configured but never published do not block (the gateway reports them `pending`),
the same rule as docker/tfserving/healthcheck.sh.

The tensorflow/serving image has no Python, so in Kubernetes this runs as a small sidecar container of the
TF Serving pod (the gateway image holds protos/ and common/): `--serve PORT` answers `GET /ready` (200 / 503
with the reasons) and `GET /live`; a pod is Ready only when all its containers are, so the sidecar's readiness
gates the pod's place behind the headless Service. Without `--serve` it checks once and exits 0 / 1.

    python -m common.model_status_probe --address 127.0.0.1:8500 --model-config /models/models.config --serve 8503
"""

from __future__ import annotations

import argparse
import http.server
import sys
import threading
from pathlib import Path
from typing import Callable, Sequence

import grpc
from google.protobuf import text_format

from common import repository as repo
from protos import get_model_status_pb2, model_pb2, rpc

AVAILABLE = get_model_status_pb2.ModelVersionStatus.State.AVAILABLE


def published_models(config_path: Path, container_root: str = repo.CONTAINER_ROOT) -> list[str]:
    """Models of models.config that have at least one version directory on disk (in file order)."""
    config = repo.read_config(config_path)
    names = []
    for entry in config.model_config_list.config:
        base = repo.resolve_base_path(entry.base_path, config_path.parent, container_root)
        if repo.list_versions(base):
            names.append(entry.name)
    return names


def problems(stub: rpc.Stub, config_path: Path, timeout: float, container_root: str = repo.CONTAINER_ROOT) -> list[str]:
    """Why the replica is not ready (empty: ready). Never raises for an unreachable server: that is a reason."""
    try:
        models = published_models(config_path, container_root)
    except (OSError, ValueError, text_format.ParseError) as e:
        return [f"cannot read {config_path}: {e}"]
    reasons = []
    for name in models:
        request = get_model_status_pb2.GetModelStatusRequest(model_spec=model_pb2.ModelSpec(name=name))
        try:
            reply = stub.GetModelStatus(request, timeout=timeout)
        except grpc.RpcError as e:
            reasons.append(f"{name}: {e.code().name}: {e.details()}")  # type: ignore[attr-defined]
            continue
        if not any(s.state == AVAILABLE for s in reply.model_version_status):
            states = {int(s.version): get_model_status_pb2.ModelVersionStatus.State.Name(s.state) for s in reply.model_version_status}
            reasons.append(f"{name}: no AVAILABLE version ({states or 'no versions'})")
    return reasons


class _ProbeHandler(http.server.BaseHTTPRequestHandler):
    check: Callable[[], list[str]]  # set on the subclass built by serve()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/live":
            self._answer(200, "alive\n")
        elif self.path == "/ready":
            reasons = type(self).check()
            self._answer(503 if reasons else 200, "\n".join(reasons) + "\n" if reasons else "ready\n")
        else:
            self._answer(404, "GET /ready or /live\n")

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - probes every few seconds: no access log
        pass


def serve(port: int, check: Callable[[], list[str]], host: str = "0.0.0.0") -> http.server.ThreadingHTTPServer:
    """An HTTP server answering /ready from `check()`; started on a daemon thread, returned for shutdown()."""
    handler = type("ProbeHandler", (_ProbeHandler,), {"check": staticmethod(check)})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="model-status-probe", daemon=True).start()
    return server


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m common.model_status_probe", description=__doc__.splitlines()[0])
    p.add_argument("--address", default="127.0.0.1:8500", help="gRPC address of the replica (same pod: 127.0.0.1)")
    p.add_argument("--model-config", type=Path, default=Path(repo.CONTAINER_ROOT) / repo.CONFIG_NAME)
    p.add_argument("--container-root", default=repo.CONTAINER_ROOT, help="prefix of models.config's base paths")
    p.add_argument("--timeout", type=float, default=2.0, help="deadline of each GetModelStatus call, seconds")
    p.add_argument("--serve", type=int, metavar="PORT", help="answer GET /ready and /live on this port until killed")
    args = p.parse_args(argv)
    channel = grpc.insecure_channel(args.address)
    stub = rpc.Stub(channel)

    def check() -> list[str]:
        return problems(stub, args.model_config, args.timeout, args.container_root)

    if args.serve is None:
        reasons = check()
        for reason in reasons:
            print(reason, file=sys.stderr)
        return 1 if reasons else 0
    server = serve(args.serve, check)
    print(f"model-status probe of {args.address} on :{server.server_address[1]} (/ready, /live)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
