"""Security basics through a real gateway process (no backend needed: everything here is refused at the edge).

Request head limits (431, the connection closed), multipart part/field limits, model names and labels checked
before they reach a path or a gRPC call, API key / admin token refusals counted in gateway_auth_failures.
(The comparisons themselves are hmac.compare_digest in gateway/deps.py.)
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.gateway.gateway_process import ADMIN_TOKEN, GatewayProcess
from tests.reliability.figures import record
from tests.utils.servers import free_port

KEY = "key-0123456789abcdef"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    repo: Path = tmp_path_factory.mktemp("edge-repo")
    (repo / "models.config").write_text("model_config_list {}\n")
    with GatewayProcess(f"127.0.0.1:{free_port()}", repo, env={"GATEWAY_API_KEYS": KEY}) as gw:  # nothing listens there
        yield gw


def raw(gw: GatewayProcess, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes (a refused head must close the connection)."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=60) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_request_head_limits(edge) -> None:
    ok = raw(edge, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: " + b"a" * 8000 + b"\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200"), ok[:200]
    cases = {
        "one 64 KB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 64_000 + b"\r\n\r\n",
        "one 2 MB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n",
        "5000 header lines": b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n",
        "200 KB URL": b"GET /healthz?" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    }
    for name, data in cases.items():
        out = raw(edge, data)
        assert out.startswith(b"HTTP/1.1 431"), (name, out[:200])
        assert b'"code":"headers_too_large"' in out and b"GATEWAY_MAX_HEADER_BYTES" in out, (name, out[-300:])
    assert httpx.get(edge.url + "/healthz").status_code == 200
    record("request head limits", sent=len(cases) + 1, failed=0, refused_431=len(cases), limits="32 KiB, 100 lines")


def test_multipart_limits(edge) -> None:
    h = {"X-API-Key": KEY}
    r = httpx.post(edge.url + "/predict", data={"model": "m"}, files=[(f"f{i}", ("a", b"x")) for i in range(40)], headers=h)
    assert r.status_code == 400 and "Too many files" in r.text, r.text
    r = httpx.post(edge.url + "/predict", data={**{f"k{i}": "v" for i in range(40)}, "model": "m"}, files=[("a", ("a", b"x"))], headers=h)
    assert r.status_code == 400 and "Too many fields" in r.text, r.text
    r = httpx.post(edge.url + "/predict", data={"model": "m", "big": "v" * 2_000_000}, files=[("a", ("a", b"x"))], headers=h)
    assert r.status_code == 400 and "exceeded maximum size" in r.text, r.text


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", ".hidden", "x" * 129, "nul\x00byte", "spa ce", "é"])
def test_model_names_and_labels_checked_at_the_edge(edge, name: str) -> None:
    h = {"X-API-Key": KEY}
    r = httpx.post(edge.url + "/predict", json={"model": name, "inputs": {}}, headers=h)
    assert r.status_code == 422 and "model" in r.json()["error"]["message"], r.text
    r = httpx.post(edge.url + "/predict", json={"model": "ok", "version_label": name, "inputs": {}}, headers=h)
    assert r.status_code == 422 and "version_label" in r.json()["error"]["message"], r.text
    r = httpx.post(edge.url + "/predict", data={"model": name}, files=[("a", ("a", b"x"))], headers=h)
    assert r.status_code == 422 and "not a valid name" in r.json()["error"]["message"], r.text
    if "/" not in name and "\x00" not in name:  # a '/' is a different route (404); path segments cannot carry NUL
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        r = httpx.put(edge.url + f"/admin/models/{name}/labels/stable", json={"version": 1}, headers=admin)
        assert r.status_code == 422, r.text
        r = httpx.put(edge.url + f"/admin/models/ok/labels/{name}", json={"version": 1}, headers=admin)
        assert r.status_code == 422, r.text
        assert httpx.get(edge.url + f"/models/{name}").status_code == 422


def test_auth_failures_are_counted(edge) -> None:
    body = {"model": "m", "inputs": {}}
    assert httpx.post(edge.url + "/predict", json=body).status_code == 401
    assert httpx.post(edge.url + "/predict", json=body, headers={"X-API-Key": "wrong"}).status_code == 403
    assert httpx.post(edge.url + "/predict", json=body, headers={"X-API-Key": KEY[:-1]}).status_code == 403
    assert httpx.post(edge.url + "/admin/reload").status_code == 401
    assert httpx.post(edge.url + "/admin/reload", headers={"Authorization": "Bearer nope"}).status_code == 403
    text = httpx.get(edge.url + "/metrics").text
    counts = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line.startswith("gateway_auth_failures_total{")}
    assert counts['gateway_auth_failures_total{reason="missing",scope="predict"}'] >= 1
    assert counts['gateway_auth_failures_total{reason="invalid",scope="predict"}'] >= 2
    assert counts['gateway_auth_failures_total{reason="missing",scope="admin"}'] >= 1
    assert counts['gateway_auth_failures_total{reason="invalid",scope="admin"}'] >= 1
    record("auth failures counted", sent=5, failed=0, counted=int(sum(counts.values())))
