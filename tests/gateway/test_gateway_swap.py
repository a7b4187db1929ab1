"""Hot swap under load through the gateway, then the admin API moving labels on the same stack.

Swap: client threads send unpinned requests while a new version is published; the backend loads it, the
gateway loads its assets and switches. Zero failed requests, and every response is one version end to end
(the graph's tag == the assets' tag == the version reported). Old assets are freed once unused.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections import defaultdict

import httpx

from common import repository as repo
from gateway.registry import in_share
from tests.gateway.gateway_process import ADMIN_TOKEN
from tests.gateway.version_family import MODEL, publish_version
from tests.utils.servers import REPO_ROOT, python_executable, wait_until

BODY = {"model": MODEL, "inputs": {"x": [1.0, 2.0]}}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def served_default(url: str) -> int:
    return httpx.get(url + f"/models/{MODEL}").json()["default_version"]


def test_swap_under_load_loses_nothing_and_never_mixes_versions(gw_gateway, gw_repo) -> None:
    url = gw_gateway.url
    old = served_default(url)
    results: dict[int, list[tuple[int, int | None]]] = defaultdict(list)  # thread -> [(status, version)]
    problems: list[str] = []
    stop = threading.Event()

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            while not stop.is_set():
                try:
                    r = c.post("/predict", json=BODY)
                except httpx.HTTPError as e:
                    problems.append(f"thread {i}: {e!r}")
                    continue
                body = r.json()
                if r.status_code != 200:
                    problems.append(f"thread {i}: {r.status_code} {body}")
                    results[i].append((r.status_code, None))
                    continue
                out = body["outputs"]
                if not out["graph_tag"] == out["asset_tag"] == body["version"]:
                    problems.append(f"thread {i}: mixed versions {body}")
                results[i].append((200, body["version"]))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: sum(len(v) for v in results.values()) >= 20, timeout=60, message="load is flowing")
        new = publish_version(gw_repo).version
        wait_until(lambda: any(v == new for rs in list(results.values()) for _, v in rs[-3:]), timeout=240, interval=0.2, message=f"responses from version {new}")
        seen_new = sum(1 for rs in list(results.values()) for _, v in rs if v == new)
        wait_until(lambda: sum(1 for rs in list(results.values()) for _, v in rs if v == new) >= seen_new + 40, timeout=60, message="load continues on the new version")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    total = sum(len(v) for v in results.values())
    assert not problems, problems[:5]
    assert total > 60
    versions = {v for rs in results.values() for _, v in rs}
    assert versions == {old, new}
    for rs in results.values():  # per client, once the new version answered the old one never does again
        seq = [v for _, v in rs]
        if new in seq:
            assert old not in seq[seq.index(new):]
    # the old version's assets are freed once the backend unloaded it and no request holds them
    wait_until(
        lambda: f'gateway_assets_loaded{{model="{MODEL}",version="{old}"}} 0.0' in httpx.get(url + "/metrics").text,
        timeout=60, message="old assets freed",
    )
    # the swap thawed the heap (gateway.core.heap); with the retired assets gone it is frozen again
    events = [line for line in gw_gateway.log().splitlines() if '"event": "heap_' in line]
    assert any("heap_thawed" in e for e in events), events[-5:]
    wait_until(lambda: "heap_frozen" in [ln for ln in gw_gateway.log().splitlines() if '"event": "heap_' in ln][-1],
               timeout=30, message="heap frozen again after the swap")


def predict_version(url: str, **pin: object) -> int:
    r = httpx.post(url + "/predict", json={**BODY, **pin}, timeout=60)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["outputs"]["graph_tag"] == out["outputs"]["asset_tag"] == out["version"]
    return out["version"]


def admin(method: str, url: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(method, url + path, headers=AUTH, timeout=300, **kw)


def test_admin_labels_rollback_and_canary(gw_gateway, gw_repo) -> None:
    url = gw_gateway.url
    versions = sorted(repo.list_versions(gw_repo / MODEL))
    assert len(versions) >= 2, "runs after the swap test published a second version"
    old, new = versions[-2], versions[-1]
    wait_until(lambda: served_default(url) == new, timeout=120, message="newest version served")

    # stable -> old: the backend serves only the newest (latest {1}), so the move is two steps
    r = admin("PUT", url, f"/admin/models/{MODEL}/labels/stable", json={"version": old})
    assert r.status_code == 200, r.text
    assert r.json() == {"model": MODEL, "label": "stable", "version": old, "previous": None}
    mc = repo.model_config(repo.read_config(gw_repo / "models.config"), MODEL)
    assert mc.version_labels["stable"] == old and mc.model_version_policy.latest.num_versions >= 2
    assert predict_version(url) == old  # unpinned requests follow `stable`
    assert predict_version(url, version=new) == new

    r = admin("PUT", url, f"/admin/models/{MODEL}/labels/canary", json={"version": new})
    assert r.status_code == 200, r.text
    assert predict_version(url, version_label="canary") == new

    # through the CLI (servectl admin wraps the same API)
    cli = subprocess.run(
        [python_executable(), "-m", "servectl", "admin", "canary", MODEL, "0.5", "--gateway", url],
        cwd=REPO_ROOT, env={**os.environ, "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}, capture_output=True, text=True, timeout=120,
    )
    assert cli.returncode == 0 and f"{MODEL}: canary share 0.5" in cli.stdout, cli.stderr
    assert httpx.get(url + f"/models/{MODEL}").json()["canary_share"] == 0.5
    share_line = f'gateway_canary_share{{model="{MODEL}"}} 0.5'
    metrics = wait_until(lambda: next((t for t in [httpx.get(url + "/metrics").text] if share_line in t), None), timeout=30)
    assert f'gateway_model_label_version{{label="canary",model="{MODEL}"}} {float(new)}' in metrics
    assert f'gateway_model_label_version{{label="stable",model="{MODEL}"}} {float(old)}' in metrics
    for i in range(12):  # deterministic by request id
        rid = f"canary-check-{i}"
        got = httpx.post(url + "/predict", json=BODY, headers={"X-Request-ID": rid}).json()["version"]
        assert got == (new if in_share(rid, 0.5) else old), rid

    r = admin("PUT", url, f"/admin/models/{MODEL}/labels/stable", json={"version": new})
    assert r.status_code == 200 and r.json()["previous"] == old
    r = admin("POST", url, f"/admin/models/{MODEL}/labels/stable/rollback")
    assert r.status_code == 200 and r.json()["version"] == old and r.json()["previous"] == new
    assert httpx.get(url + f"/models/{MODEL}").json()["labels"]["stable"] == old
    r = admin("POST", url, f"/admin/models/{MODEL}/labels/stable/rollback")
    assert r.status_code == 409 and "no earlier version" in r.json()["error"]["message"]

    r = admin("PUT", url, f"/admin/models/{MODEL}/labels/stable", json={"version": 999})
    assert r.status_code == 404 and "no version 999" in r.json()["error"]["message"]
    r = admin("PUT", url, f"/admin/models/{MODEL}/canary", json={"share": 2})
    assert r.status_code == 422 and "share" in r.json()["error"]["message"]
    r = admin("PUT", url, "/admin/models/nope/labels/stable", json={"version": 1})
    assert r.status_code == 404

    r = admin("DELETE", url, f"/admin/models/{MODEL}/labels/canary")
    assert r.status_code == 200 and r.json()["previous"] == new
    r = admin("POST", url, "/admin/reload")
    assert r.status_code == 200 and MODEL in r.json()["models"]
    assert "canary" not in repo.model_config(repo.read_config(gw_repo / "models.config"), MODEL).version_labels
