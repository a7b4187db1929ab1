"""POST /predict answered from the HTTP protocol (gateway.api.fast_predict): which requests take it, that it
answers exactly as the ASGI stack does, and that HTTP/1.1 still holds on the connection (pipelining order,
HTTP/1.0 close, a client that leaves). Real modelserver and gateway processes, raw sockets where httpx
would hide the protocol."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Iterator

import httpx
import pytest

from gateway.api.fast_predict import takes_fast_path
from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL
from tests.utils.servers import wait_until

LIMIT = 1 << 20


@pytest.mark.parametrize(
    ("headers", "fast"),
    [
        ([(b"content-type", b"application/json"), (b"content-length", b"10")], True),
        ([(b"content-type", b"Application/JSON; charset=utf-8"), (b"content-length", b"10")], True),
        ([(b"content-type", b"application/vnd.api+json"), (b"content-length", b"0")], True),
        ([(b"content-type", b"application/json"), (b"content-length", str(LIMIT).encode())], True),
        ([(b"content-type", b"application/json"), (b"content-length", str(LIMIT + 1).encode())], False),  # 413 from the middleware
        ([(b"content-type", b"application/json")], False),  # no length
        ([(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")], False),
        ([(b"content-type", b"application/json"), (b"content-length", b"10"), (b"content-length", b"10")], False),
        ([(b"content-type", b"application/json"), (b"content-length", b"1e3")], False),
        ([(b"content-type", b"application/json"), (b"content-length", b"10"), (b"expect", b"100-continue")], False),
        ([(b"content-type", b"application/json"), (b"content-length", b"10"), (b"origin", b"http://example.test")], False),  # CORS
        ([(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"10")], False),
        ([(b"content-type", b"text/plain"), (b"content-length", b"10")], False),  # 415 from the route
        ([(b"content-length", b"10")], False),
    ],
)
def test_only_the_plain_json_case_takes_the_fast_path(headers: list[tuple[bytes, bytes]], fast: bool) -> None:
    assert takes_fast_path(headers, LIMIT) is fast


@pytest.fixture(scope="module")
def asgi_gateway(gw_modelserver, gw_repo) -> Iterator[GatewayProcess]:
    """A second gateway on the same backend with the fast path off: every request takes the ASGI stack."""
    env = {"GATEWAY_CORS_ORIGINS": "http://example.test", "GATEWAY_MAX_BODY_BYTES": str(LIMIT), "GATEWAY_FAST_PREDICT": "false"}
    with GatewayProcess(gw_modelserver.address, gw_repo, env=env) as gateway:
        gateway.wait_ready()
        yield gateway


def _access_line(gateway: GatewayProcess, rid: str) -> dict:
    """The request's access line; it is written just after the response is sent, so it may lag a little."""

    def lines() -> list[dict]:
        return [json.loads(line) for line in gateway.log().splitlines() if f'"request_id":"{rid}"' in line]

    found = wait_until(lines, timeout=10, message=f"access line of {rid}")
    assert len(found) == 1, found
    return found[0]


def _post(gateway: GatewayProcess, rid: str, **kwargs) -> httpx.Response:
    headers = {"x-request-id": rid, **kwargs.pop("headers", {})}
    return httpx.post(gateway.url + "/predict", headers=headers, timeout=30, **kwargs)


def test_plain_json_is_answered_on_the_fast_path_and_the_rest_on_asgi(gw_gateway) -> None:
    rid = uuid.uuid4().hex
    assert _post(gw_gateway, rid, json={"model": MODEL, "inputs": {"x": [1.0]}}).status_code == 200
    assert _access_line(gw_gateway, rid).get("fast") is True

    rid = uuid.uuid4().hex  # a browser's cross-origin call: CORS headers come from the ASGI middleware
    r = _post(gw_gateway, rid, json={"model": MODEL, "inputs": {"x": [1.0]}}, headers={"origin": "http://example.test"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://example.test"
    assert "fast" not in _access_line(gw_gateway, rid)

    rid = uuid.uuid4().hex  # chunked body: counted against the limit while it is read, on the ASGI path
    r = _post(gw_gateway, rid, content=iter([b'{"model": "' + MODEL.encode() + b'", ', b'"inputs": {"x": [1.0]}}']),
              headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert "fast" not in _access_line(gw_gateway, rid)


BAD_AND_GOOD = [
    ("good", {"json": {"model": MODEL, "inputs": {"x": [1.0, 2.0]}}}),
    ("malformed JSON", {"content": b'{"model": ', "headers": {"content-type": "application/json"}}),
    ("not an object", {"json": [1, 2]}),
    ("missing inputs", {"json": {"model": MODEL}}),
    ("extra field", {"json": {"model": MODEL, "inputs": {"x": [1.0]}, "colour": "red"}}),
    ("wrong type", {"json": {"model": MODEL, "inputs": {"x": "one"}}}),
    ("unknown model", {"json": {"model": "no-such-model", "inputs": {}}}),
    ("unknown version", {"json": {"model": MODEL, "version": 999, "inputs": {"x": [1.0]}}}),
    ("unknown label", {"json": {"model": MODEL, "version_label": "nope", "inputs": {"x": [1.0]}}}),
    ("empty body", {"content": b"", "headers": {"content-type": "application/json"}}),
    ("bad deadline header", {"json": {"model": MODEL, "inputs": {"x": [1.0]}}, "headers": {"x-request-timeout-ms": "soon"}}),
]


@pytest.mark.parametrize(("case", "request_kwargs"), BAD_AND_GOOD, ids=[c for c, _ in BAD_AND_GOOD])
def test_the_fast_path_answers_as_the_asgi_stack_does(gw_gateway, asgi_gateway, case: str, request_kwargs: dict) -> None:
    answers = []
    for gateway in (gw_gateway, asgi_gateway):
        rid = uuid.uuid4().hex
        r = _post(gateway, rid, **{k: (dict(v) if isinstance(v, dict) else v) for k, v in request_kwargs.items()})
        body = r.json()
        if "error" in body:
            assert body["error"].pop("request_id") == rid
        body.pop("timing_ms", None)
        headers = {k: v for k, v in r.headers.items() if k not in ("date", "content-length")}
        assert headers.pop("x-request-id") == rid
        answers.append((r.status_code, body, headers))
        assert _access_line(gateway, rid).get("fast") is (True if gateway is gw_gateway else None)
    assert answers[0] == answers[1], case
    assert answers[0][0] < 500, answers[0]


def _read_response(f) -> tuple[int, dict[str, str], bytes]:
    status = int(f.readline().split()[1])
    headers = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, f.read(int(headers["content-length"]))


def _raw_post(body: bytes, rid: str, version: str = "1.1") -> bytes:
    return (f"POST /predict HTTP/{version}\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-ID: {rid}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_pipelined_requests_are_answered_in_order_on_one_connection(gw_gateway) -> None:
    """Two fast-path requests and a GET sent in one write: three answers, in request order."""
    one = json.dumps({"model": MODEL, "inputs": {"x": [1.0]}}).encode()
    two = json.dumps({"model": MODEL, "inputs": {"x": [2.0, 3.0]}}).encode()
    with socket.create_connection(("127.0.0.1", gw_gateway.port), timeout=30) as s:
        s.sendall(_raw_post(one, "pipe-1") + _raw_post(two, "pipe-2") + b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: pipe-3\r\n\r\n")
        f = s.makefile("rb")
        answers = [_read_response(f) for _ in range(3)]
    assert [h["x-request-id"] for _, h, _ in answers] == ["pipe-1", "pipe-2", "pipe-3"]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert len(json.loads(answers[0][2])["outputs"]["y"]) == 1 and len(json.loads(answers[1][2])["outputs"]["y"]) == 2


def test_http_1_0_gets_its_answer_and_the_connection_closes(gw_gateway) -> None:
    body = json.dumps({"model": MODEL, "inputs": {"x": [1.0]}}).encode()
    with socket.create_connection(("127.0.0.1", gw_gateway.port), timeout=30) as s:
        s.sendall(_raw_post(body, "old-client", version="1.0"))
        f = s.makefile("rb")
        status, headers, payload = _read_response(f)
        assert status == 200 and headers["connection"] == "close" and json.loads(payload)["outputs"]
        assert f.read() == b""  # closed by the server


def test_a_client_that_leaves_mid_request_does_not_hurt_the_gateway(gw_gateway) -> None:
    body = json.dumps({"model": MODEL, "inputs": {"x": [1.0]}}).encode()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", gw_gateway.port), timeout=30) as s:
            s.sendall(_raw_post(body, "gone"))  # and close before the answer
    r = httpx.post(gw_gateway.url + "/predict", json={"model": MODEL, "inputs": {"x": [1.0]}}, timeout=30)
    assert r.status_code == 200
    assert "Traceback" not in gw_gateway.log()
