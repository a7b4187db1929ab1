"""Backend failures through a real gateway process: down -> 503 + Retry-After, back -> success without
restarting the gateway; a deadline -> 504; API keys on /predict."""

from __future__ import annotations

import signal
import threading

import httpx

from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL, SPIN_OFFSET
from tests.utils.servers import wait_until

OK_BODY = {"model": MODEL, "inputs": {"x": [1.0]}}


def test_backend_down_then_back(gw_modelserver, gw_gateway) -> None:
    gw = gw_gateway
    assert httpx.post(gw.url + "/predict", json=OK_BODY).status_code == 200
    pid = gw.proc.pid
    gw_modelserver.stop()
    try:
        for _ in range(5):
            r = httpx.post(gw.url + "/predict", json=OK_BODY, timeout=30)
            assert r.status_code == 503, r.text
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["code"] == "backend_unavailable"
            assert "unavailable" in r.json()["error"]["message"]
        wait_until(lambda: httpx.get(gw.url + "/readyz").status_code == 503, timeout=30, message="readyz reports the backend down")
        ready = httpx.get(gw.url + "/readyz")
        assert "retry-after" in ready.headers and any("backend" in reason for reason in ready.json()["reasons"])
    finally:
        gw_modelserver.restart()  # same address: the gateway must find it again by itself
    statuses: list[int] = []

    def answers() -> bool:
        r = httpx.post(gw.url + "/predict", json=OK_BODY, timeout=30)
        statuses.append(r.status_code)
        if r.status_code == 503:
            assert "retry-after" in r.headers
        return r.status_code == 200

    wait_until(answers, timeout=240, interval=0.2, message="gateway answers again after the backend restarted")
    assert set(statuses) <= {200, 503}, statuses  # loading -> 503, never 404/500/502
    assert gw.proc.pid == pid and gw.proc.poll() is None
    gw.wait_ready(timeout=60)


def test_gateway_drains_in_flight_requests_on_sigterm(gw_modelserver, gw_repo) -> None:
    with GatewayProcess(gw_modelserver.address, gw_repo) as gw:
        gw.wait_ready()
        slow = {"model": MODEL, "inputs": {"x": [-(SPIN_OFFSET + 1e5)]}}  # about a second in the graph
        result: list[httpx.Response] = []
        worker = threading.Thread(target=lambda: result.append(httpx.post(gw.url + "/predict", json=slow, timeout=120)))
        worker.start()
        # the metrics request itself is one in-flight request; the slow predict makes two
        wait_until(lambda: "gateway_inflight_requests 2.0" in httpx.get(gw.url + "/metrics").text, timeout=30, interval=0.02, message="slow request in flight")
        gw.proc.send_signal(signal.SIGTERM)
        worker.join(timeout=120)
        assert result and result[0].status_code == 200, result and result[0].text
    # uvicorn drains, runs the lifespan shutdown, then re-raises SIGTERM (exit status -15)
    assert gw.returncode in (0, -15) and "Application shutdown complete" in gw.log(), gw.log()[-2000:]


def test_deadline_is_504_and_api_keys(gw_modelserver, gw_repo) -> None:
    env = {"GATEWAY_BACKEND_TIMEOUT_S": "0.3", "GATEWAY_API_KEYS": "key-one,key-two", "GATEWAY_INLINE_HOOKS": "true"}
    with GatewayProcess(gw_modelserver.address, gw_repo, env=env) as gw:
        gw.wait_ready()
        slow = {"model": MODEL, "inputs": {"x": [-(SPIN_OFFSET + 3e5)]}}  # the graph spins 3e5 iterations: seconds
        r = httpx.post(gw.url + "/predict", json=slow)
        assert r.status_code == 401 and "X-API-Key" in r.json()["error"]["message"]
        r = httpx.post(gw.url + "/predict", json=slow, headers={"X-API-Key": "wrong"})
        assert r.status_code == 403
        r = httpx.post(gw.url + "/predict", json=slow, headers={"X-API-Key": "key-two"}, timeout=60)
        assert r.status_code == 504, r.text
        assert r.json()["error"]["code"] == "backend_timeout" and "deadline" in r.json()["error"]["message"]
        assert httpx.get(gw.url + "/healthz").status_code == 200
        assert httpx.get(gw.url + "/models").status_code == 200  # /models needs no key
