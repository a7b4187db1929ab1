"""The gRPC client of TF Serving / modelserver, and the ONLY place numpy <-> TensorProto conversion happens.

Why here alone: routes and families never see protobuf (docs/design.md §7), so a change of wire
format touches one module. Requests carry `tensor_content` bytes (the fast path); responses are decoded
whatever the server used (`*_val` fields by default in TF Serving, `tensor_content` with
`--enable_serialization_as_tensor_content`).

Channels (targets and member discovery: `gateway.replicas`):
- one balanced channel for Predict. Several backend addresses use gRPC's own `round_robin` policy through
  an `ipv4:`/`ipv6:` target (`ipv4:10.0.0.1:8500,10.0.0.2:8500`), a host name uses `dns:///` (a name with one
  A record per replica — a Kubernetes headless Service, a Compose service — is balanced the same way, and
  gRPC re-resolves it when a connection closes); grpc skips replicas that are down.
- one channel per member for GetModelStatus and HandleReloadConfigRequest: a version counts as AVAILABLE
  only when every reachable replica serves it (a pinned request may land on any of them), and config
  reloads must reach every replica. For a `dns:` target the members are the name's addresses, resolved
  again every `backend_resolve_interval_s`: channels of replicas that left are closed, new ones opened.
Retries: UNAVAILABLE (replica restarting or killed, connection refused) is retried with jittered exponential
backoff within the request's one deadline; any other code is final. With several replicas the retry goes to
another one: the failed connection has already left round_robin's ready list when the call fails, and the
backoff pause lets the picker catch up. Predict is a pure function of its request, so a retry is safe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import grpc
import numpy as np
from google.protobuf import wrappers_pb2

from gateway import errors as E
from gateway.grpc_status import from_grpc
from gateway.core.config import Settings
from gateway.replicas import BackendTarget, balanced_target, parse_backend, resolve, split_addresses  # noqa: F401 - re-exported
from protos import codec, get_model_status_pb2, model_management_pb2, model_pb2, model_server_config_pb2, predict_pb2, rpc

log = logging.getLogger("gateway.backend")
STATE_NAMES = {v.number: v.name for v in get_model_status_pb2.ModelVersionStatus.State.DESCRIPTOR.values}
# the order a version goes through; merging replicas keeps the least advanced state
_STATE_RANK = {"UNKNOWN": 0, "START": 1, "LOADING": 2, "AVAILABLE": 3, "UNLOADING": 4, "END": 5}


@dataclass(frozen=True)
class VersionStatus:
    version: int
    state: str  # START | LOADING | AVAILABLE | UNLOADING | END | UNKNOWN
    error: str = ""  # the status message (a failed load reports END with its error)


class Backend:
    """Async client of the PredictionService and ModelService; raises `gateway.errors` only."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.spec: BackendTarget = parse_backend(settings.backend)
        self.target = self.spec.target
        self._channel: grpc.aio.Channel | None = None
        self._stub: rpc.Stub | None = None
        self._members: list[tuple[str, rpc.Stub, grpc.aio.Channel]] = []
        self._members_at: float | None = None  # monotonic time of the last member resolution
        self._members_lock = asyncio.Lock()
        self.last_ok: float | None = None  # monotonic time of the last successful status call
        self.on_retry: Callable[[], None] | None = None  # metrics hook

    @property
    def addresses(self) -> list[str]:
        """The member addresses in use now (resolved ones for a `dns:` target)."""
        return [a for a, _s, _c in self._members]

    def _options(self) -> list[tuple[str, object]]:
        s = self.settings
        backoff_ms = int(s.reconnect_backoff_max_s * 1000)
        return [
            ("grpc.max_send_message_length", s.max_message_bytes),
            ("grpc.max_receive_message_length", s.max_message_bytes),
            ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
            ("grpc.initial_reconnect_backoff_ms", min(100, backoff_ms)),
            ("grpc.min_reconnect_backoff_ms", min(100, backoff_ms)),
            ("grpc.max_reconnect_backoff_ms", backoff_ms),
            ("grpc.enable_retries", 0),  # retries are ours: bounded by the request's deadline
            # gRPC's DNS resolver re-resolves when a connection closes, at most this often (default 30 s)
            ("grpc.dns_min_time_between_resolutions_ms", int(s.backend_resolve_interval_s * 1000)),
        ]

    async def start(self) -> None:
        opts = self._options()
        self._channel = grpc.aio.insecure_channel(self.target, options=opts)
        self._stub = rpc.Stub(self._channel)
        await self._refresh_members(force=True)

    async def _refresh_members(self, force: bool = False) -> None:
        """Open a status channel per member that appeared, close those of members that left. A resolution
        that fails keeps the previous members (a DNS hiccup must not empty the backend)."""
        now = time.monotonic()
        if not force and self._members_at is not None and now - self._members_at < self.settings.backend_resolve_interval_s:
            return
        async with self._members_lock:
            if not force and self._members_at is not None and time.monotonic() - self._members_at < self.settings.backend_resolve_interval_s:
                return
            self._members_at = time.monotonic()
            try:
                addresses = await resolve(self.spec)
            except Exception as e:  # noqa: BLE001 - any resolver failure: keep what we have
                log.warning('{"event": "backend_resolve_failed", "backend": "%s", "error": "%s"}', self.target, e)
                return
            current = {a: (a, stub, ch) for a, stub, ch in self._members}
            if not self.spec.resolves and len(addresses) == 1 and self._stub is not None and self._channel is not None:
                self._members = [(addresses[0], self._stub, self._channel)]  # one address: the balanced channel is it
                return
            opts = self._options()
            members = []
            for a in addresses:
                if a in current:
                    members.append(current.pop(a))
                else:
                    ch = grpc.aio.insecure_channel(a, options=opts)
                    members.append((a, rpc.Stub(ch), ch))
            if current or len(members) != len(self._members):
                log.info('{"event": "backend_members", "backend": "%s", "members": "%s"}', self.target, ",".join(addresses))
            self._members = members
            for _a, _s, ch in current.values():
                if ch is not self._channel:
                    await ch.close(None)

    async def close(self, grace: float | None = None) -> None:
        channels = {id(c): c for _a, _s, c in self._members}
        if self._channel is not None:
            channels[id(self._channel)] = self._channel
        await asyncio.gather(*(c.close(grace) for c in channels.values()), return_exceptions=True)

    # ---- Predict
    def build_request(
        self, model: str, version: int, inputs: Mapping[str, np.ndarray], output_filter: Sequence[str] | None, signature_name: str = "serving_default"
    ) -> predict_pb2.PredictRequest:
        req = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=model, version=wrappers_pb2.Int64Value(value=version), signature_name=signature_name)
        )
        for alias, array in inputs.items():
            try:
                codec.fill_tensor_proto(req.inputs[alias], array, as_content=True)
            except codec.TensorCodecError as e:
                raise E.InvalidInput(f"input {alias!r} cannot be sent to the model: {e}") from None
        if output_filter:
            req.output_filter.extend(output_filter)
        return req

    @staticmethod
    def decode_response(resp: predict_pb2.PredictResponse) -> dict[str, np.ndarray]:
        out = {}
        for alias, proto in resp.outputs.items():
            try:
                out[alias] = codec.make_ndarray(proto)
            except codec.TensorCodecError as e:
                raise E.BackendError(f"output {alias!r} of the backend cannot be decoded: {e}") from None
        return out

    async def predict(
        self,
        model: str,
        version: int,
        inputs: Mapping[str, np.ndarray],
        output_filter: Sequence[str] | None = None,
        timeout: float | None = None,
        signature_name: str = "serving_default",
    ) -> dict[str, np.ndarray]:
        """Predict pinned to `version`; returns decoded outputs. Raises BackendUnavailable (after retries),
        BackendTimeout, ServableNotFound, InvalidInput, BackendError."""
        assert self._stub is not None, "Backend.start() not called"
        req = self.build_request(model, version, inputs, output_filter, signature_name)
        resp = await self._call(self._stub.Predict, req, timeout or self.settings.backend_timeout_s, what=f"Predict {model} version {version}")
        served = resp.model_spec.version.value if resp.model_spec.HasField("version") else version
        if served != version:  # a skewed answer must never reach a user (docs/design.md §4)
            raise E.BackendError(f"backend answered with version {served} of {model!r} for a request pinned to version {version}")
        return self.decode_response(resp)

    async def _call(self, method, request, timeout: float, *, what: str):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        backoff = self.settings.retry_backoff_s
        for attempt in range(self.settings.backend_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise E.BackendTimeout(f"{what}: the model backend did not answer within {timeout:g} s")
            try:
                return await method(request, timeout=remaining)
            except grpc.aio.AioRpcError as e:
                code = e.code()
                if code == grpc.StatusCode.UNAVAILABLE and attempt < self.settings.backend_retries:
                    if self.on_retry is not None:
                        self.on_retry()
                    pause = min(backoff * (0.5 + random.random()), max(0.0, deadline - time.monotonic()))
                    await asyncio.sleep(pause)
                    backoff *= 2
                    continue
                raise from_grpc(code, e.details() or "", what=what) from None
        raise AssertionError("unreachable")

    # ---- ModelService
    async def model_status(self, model: str) -> dict[int, VersionStatus]:
        """Versions of `model` merged over reachable replicas ({} = the backend does not know the model).
        Raises BackendUnavailable when no replica answers."""
        await self._refresh_members()
        req = get_model_status_pb2.GetModelStatusRequest(model_spec=model_pb2.ModelSpec(name=model))
        results = await asyncio.gather(
            *(self._status_one(stub, req) for _a, stub, _c in self._members), return_exceptions=True
        )
        answers = [r for r in results if not isinstance(r, BaseException)]
        if not answers:
            err = next((r for r in results if isinstance(r, E.GatewayError)), None)
            raise err if err is not None else E.BackendUnavailable("no model backend answers GetModelStatus")
        self.last_ok = time.monotonic()
        merged: dict[int, VersionStatus] = {}
        all_versions = set().union(*(a.keys() for a in answers))
        for v in all_versions:
            states = [a.get(v, VersionStatus(v, "START")) for a in answers]
            worst = min(states, key=lambda s: _STATE_RANK.get(s.state, 0) if s.state != "END" else -1)
            merged[v] = worst
        return dict(sorted(merged.items()))

    async def _status_one(self, stub: rpc.Stub, req: get_model_status_pb2.GetModelStatusRequest) -> dict[int, VersionStatus]:
        try:
            resp = await stub.GetModelStatus(req, timeout=self.settings.status_timeout_s)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return {}
            raise from_grpc(e.code(), e.details() or "", what=f"GetModelStatus {req.model_spec.name}") from None
        out = {}
        for s in resp.model_version_status:
            out[int(s.version)] = VersionStatus(int(s.version), STATE_NAMES.get(s.state, "UNKNOWN"), s.status.error_message)
        return out

    async def reload_config(self, config: model_server_config_pb2.ModelServerConfig) -> list[str]:
        """HandleReloadConfigRequest on every replica; returns the replicas' error messages (empty = all OK)."""
        await self._refresh_members()
        req = model_management_pb2.ReloadConfigRequest(config=config)
        problems = [] if self._members else [f"{self.target}: no replica resolved"]
        for address, stub, _c in self._members:
            try:
                resp = await stub.HandleReloadConfigRequest(req, timeout=self.settings.reload_timeout_s)
            except grpc.aio.AioRpcError as e:
                problems.append(f"{address}: {e.code().name}: {e.details()}")
                continue
            if resp.status.error_code != 0:
                problems.append(f"{address}: {resp.status.error_message}")
        return problems
