"""The HTTP API against real modelserver and gateway processes: answers, bad input, docs, metrics.

Every bad input gets its specific status and a message that says what was wrong (and what is accepted);
nothing here may produce a 5xx, and the service stays up after each.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.gateway.version_family import MODEL, PENDING_MODEL

BOUNDARY = "testboundary7MA4YWxkTrZu0gW"


def multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A hand-built multipart body (name, filename or None for a plain field, content)."""
    out = b""
    for name, filename, content in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + content + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return out, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def check_consistent(body: dict) -> None:
    """No mixing: the graph's and the assets' version both equal the version that answered."""
    out = body["outputs"]
    assert out["graph_tag"] == out["asset_tag"] == body["version"], body


def test_predict_json(gw_gateway) -> None:
    r = httpx.post(gw_gateway.url + "/predict", json={"model": MODEL, "inputs": {"x": [1.0, 2.5]}})
    assert r.status_code == 200, r.text
    body = r.json()
    check_consistent(body)
    v = body["version"]
    assert body["outputs"]["y"] == [1.0 + 1000 * v, 2.5 + 1000 * v]
    # the design's four stages; `queue` (part of `backend`) too, since batching is on by default for this family
    assert set(body["timing_ms"]) == {"preprocess", "backend", "postprocess", "total", "queue"}
    assert r.headers["content-type"] == "application/json" and r.headers["x-request-id"]


def test_predict_multipart_with_file(gw_gateway) -> None:
    body, headers = multipart([("model", None, MODEL.encode()), ("x", "x.txt", b"4 5 6")])
    r = httpx.post(gw_gateway.url + "/predict", content=body, headers=headers)
    assert r.status_code == 200, r.text
    check_consistent(r.json())
    assert len(r.json()["outputs"]["y"]) == 3


def test_pinned_version_and_request_id_echo(gw_gateway) -> None:
    served = httpx.get(gw_gateway.url + f"/models/{MODEL}").json()["served_versions"]
    rid = "my-request-" + uuid.uuid4().hex[:8]
    r = httpx.post(gw_gateway.url + "/predict", json={"model": MODEL, "version": served[0], "inputs": {"x": [0]}}, headers={"X-Request-ID": rid})
    assert r.status_code == 200 and r.json()["version"] == served[0]
    assert r.headers["x-request-id"] == rid
    bad = httpx.get(gw_gateway.url + "/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert bad.headers["x-request-id"] != "bad id with spaces" and len(bad.headers["x-request-id"]) == 32


JSON = {"content-type": "application/json"}
BAD_INPUTS = [
    # (case, kwargs for httpx.post, status, words the message must contain)
    ("malformed JSON", {"content": b'{"model": "versioned", "inputs": ', "headers": JSON}, 400, ["not valid JSON", '"model"']),
    ("empty body", {"content": b"", "headers": JSON}, 400, ["empty request body"]),
    ("JSON array", {"content": b"[1, 2]", "headers": JSON}, 400, ["must be a JSON object"]),
    ("wrong content type", {"content": b"x=1", "headers": {"content-type": "text/plain"}}, 415, ["text/plain", "application/json", "multipart/form-data"]),
    ("no content type", {"content": b"{}"}, 415, ["(none)", "application/json"]),
    ("missing inputs", {"json": {"model": MODEL}}, 422, ["inputs: required field is missing", "Accepted"]),
    ("missing model", {"json": {"inputs": {"x": [1]}}}, 422, ["model: required field is missing"]),
    ("extra field", {"json": {"model": MODEL, "inputs": {"x": [1]}, "temperature": 1}}, 422, ["temperature: unexpected field", "version_label"]),
    ("version of wrong type", {"json": {"model": MODEL, "version": "one", "inputs": {"x": [1]}}}, 422, ["version: Input should be a valid integer", "'one'"]),
    ("version and label", {"json": {"model": MODEL, "version": 1, "version_label": "stable", "inputs": {"x": [1]}}}, 422, ["either `version` or `version_label`"]),
    ("input of wrong type", {"json": {"model": MODEL, "inputs": {"x": ["a", 2]}}}, 422, ["inputs.x.0", "valid number", "'a'"]),
    ("input missing", {"json": {"model": MODEL, "inputs": {}}}, 422, ["inputs.x: required field is missing", "inputs fields of 'versiontest': x"]),
    ("extra input", {"json": {"model": MODEL, "inputs": {"x": [1], "z": 2}}}, 422, ["inputs.z: unexpected field"]),
    ("too many values", {"json": {"model": MODEL, "inputs": {"x": [1.0] * 65}}}, 422, ["inputs.x", "at most 64"]),
    ("unknown model", {"json": {"model": "nope", "inputs": {}}}, 404, ["model 'nope' not found", MODEL]),
    ("unknown version", {"json": {"model": MODEL, "version": 999, "inputs": {"x": [1]}}}, 404, ["no served version 999", "served versions"]),
    ("unknown label", {"json": {"model": MODEL, "version_label": "nightly", "inputs": {"x": [1]}}}, 404, ["no version label 'nightly'"]),
    ("oversize body", {"content": b'{"model": "versioned", "inputs": {"x": [' + b"1," * (600 << 10) + b"1]}}", "headers": JSON}, 413, ["exceeds the limit of 1048576 bytes"]),
    ("multipart without file", {"multipart": [("model", None, MODEL.encode())]}, 422, ["no file", "file field(s): x"]),
    ("multipart wrong file field", {"multipart": [("model", None, MODEL.encode()), ("image", "a.png", b"123")]}, 422, ["unexpected file field(s) ['image']", "accepts: x"]),
    ("multipart without model", {"multipart": [("x", "x.txt", b"1 2")]}, 422, ["needs a `model` field"]),
    ("multipart bad file content", {"multipart": [("model", None, MODEL.encode()), ("x", "x.txt", b"one two")]}, 422, ["whitespace-separated numbers"]),
    ("multipart bad version", {"multipart": [("model", None, MODEL.encode()), ("version", None, b"v2"), ("x", "x.txt", b"1")]}, 422, ["`version` must be a non-negative integer"]),
    ("malformed multipart", {"content": b"--nope\r\ngarbage", "headers": {"content-type": "multipart/form-data"}}, 400, ["malformed multipart"]),
]


@pytest.mark.parametrize("case,kwargs,status,words", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input(gw_gateway, case, kwargs, status, words) -> None:
    kwargs = dict(kwargs)
    if "multipart" in kwargs:
        body, headers = multipart(kwargs.pop("multipart"))
        kwargs.update(content=body, headers=headers)
    r = httpx.post(gw_gateway.url + "/predict", timeout=30, **kwargs)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "request_id"} and err["request_id"] == r.headers["x-request-id"]
    for word in words:
        assert word in err["message"], (word, err["message"])
    assert "Traceback" not in r.text
    # still up and still answering correctly
    assert httpx.post(gw_gateway.url + "/predict", json={"model": MODEL, "inputs": {"x": [1]}}).status_code == 200


def test_chunked_oversize_body_is_413(gw_gateway) -> None:
    def chunks():
        for _ in range(40):
            yield b"1," * (32 << 10)

    r = httpx.post(gw_gateway.url + "/predict", content=chunks(), headers=JSON, timeout=30)
    assert r.status_code == 413 and "exceeds the limit" in r.json()["error"]["message"]


def test_model_without_any_version_is_pending_503(gw_gateway) -> None:
    r = httpx.post(gw_gateway.url + "/predict", json={"model": PENDING_MODEL, "inputs": {"x": [1]}})
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1, r.text
    assert r.json()["error"]["code"] == "model_not_ready" and "no version yet" in r.json()["error"]["message"]
    models = {m["name"]: m for m in httpx.get(gw_gateway.url + "/models").json()["models"]}
    assert models[PENDING_MODEL]["status"] == "pending" and models[PENDING_MODEL]["default_version"] is None
    assert httpx.get(gw_gateway.url + "/readyz").status_code == 200  # a pending model does not block readiness


def test_unknown_route_and_method_are_json(gw_gateway) -> None:
    r = httpx.get(gw_gateway.url + "/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = httpx.get(gw_gateway.url + "/predict")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_models_list_and_detail(gw_gateway) -> None:
    models = httpx.get(gw_gateway.url + "/models").json()["models"]
    entry = next(m for m in models if m["name"] == MODEL)
    assert entry["family"] == "versiontest" and entry["status"] == "available" and entry["served_versions"]
    detail = httpx.get(gw_gateway.url + f"/models/{MODEL}").json()
    assert detail["signature"]["inputs"] == {"x": {"dtype": "float32", "shape": [-1, -1]}}
    served = [v for v in detail["versions"] if v["served"]]
    assert served and all(v["state"] == "AVAILABLE" and v["metrics"]["tag"] == v["version"] for v in served)
    r = httpx.get(gw_gateway.url + "/models/nope")
    assert r.status_code == 404 and "not found" in r.json()["error"]["message"]


def test_health_ready_metrics(gw_gateway) -> None:
    assert httpx.get(gw_gateway.url + "/healthz").json() == {"status": "alive"}
    ready = httpx.get(gw_gateway.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True and ready.json()["models"][MODEL] == "available"
    httpx.post(gw_gateway.url + "/predict", json={"model": MODEL, "inputs": {"x": [1]}})
    text = httpx.get(gw_gateway.url + "/metrics").text
    for name in ("gateway_requests_total{", "gateway_latency_seconds_bucket{", 'model="versioned",stage="backend"', "gateway_errors_total{", "gateway_batch_size_bucket{", "gateway_model_version{", "gateway_assets_loaded{"):
        assert name in text, name


def test_cors_preflight_and_exposed_request_id(gw_gateway) -> None:
    r = httpx.options(gw_gateway.url + "/predict", headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://example.test"
    r = httpx.post(gw_gateway.url + "/predict", json={"model": MODEL, "inputs": {"x": [1]}}, headers={"Origin": "http://example.test"})
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    r = httpx.options(gw_gateway.url + "/predict", headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"})
    assert r.headers.get("access-control-allow-origin") is None


def test_openapi_has_an_example_per_model(gw_gateway) -> None:
    spec = httpx.get(gw_gateway.url + "/openapi.json").json()
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert body["application/json"]["examples"][MODEL]["value"] == {"model": MODEL, "inputs": {"x": [1.0, 2.0, 3.0]}}
    assert "multipart/form-data" in body
    assert httpx.get(gw_gateway.url + "/docs").status_code == 200


def test_admin_requires_a_valid_bearer_token(gw_gateway) -> None:
    url = gw_gateway.url + "/admin/reload"
    r = httpx.post(url)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = httpx.post(url, headers={"Authorization": "Bearer wrong-token"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
