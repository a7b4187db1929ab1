"""A version whose gateway assets fail to load (a corrupted or hand-edited `assets.extra`).

- The backend serves both versions (policy `all`): unpinned traffic stays on the last version whose graph
  AND assets are loaded (never a graph without its assets), a request pinned to the broken version gets
  503 saying why, /models shows the reason, and once the assets are repaired the gateway picks the version
  up by itself (GATEWAY_ASSET_RETRY_S), without a restart.
- With TF Serving's default policy (latest 1) the backend has already dropped the old version, so nothing
  is servable: every request gets 503 + Retry-After naming the asset failure, never a 5xx crash.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from common import repository as repo_mod
from tests.gateway.gateway_process import GatewayProcess
from tests.gateway.version_family import MODEL, publish_version
from tests.utils.servers import ModelServerProcess, wait_model_available, wait_until

BODY = {"model": MODEL, "inputs": {"x": [1.0, 2.0]}}


def broken_repo(root: Path, policy: str) -> tuple[Path, Path]:
    """Versions 1 and 2 of `versioned`; version 2's gateway asset corrupted after publishing."""
    repo = root / "repo"
    publish_version(repo)
    v2 = publish_version(repo)
    config = repo_mod.read_config(repo / repo_mod.CONFIG_NAME)
    if policy == "all":
        repo_mod.model_config(config, MODEL).model_version_policy.all.SetInParent()
        repo_mod.write_config(repo / repo_mod.CONFIG_NAME, config)
    tag = v2.path / "assets.extra" / "tag.txt"
    tag.write_text("not a number\n")  # the family's load_assets raises ValueError
    return repo, tag


def model_detail(url: str) -> dict:
    return httpx.get(f"{url}/models/{MODEL}", timeout=10).json()


def test_broken_assets_keep_the_previous_version_serving_until_repaired(tmp_path: Path) -> None:
    repo, tag = broken_repo(tmp_path, "all")
    with ModelServerProcess(repo / "models.config") as server:
        wait_model_available(server.address, MODEL, 2)
        wait_model_available(server.address, MODEL, 1)
        with GatewayProcess(server.address, repo, env={"GATEWAY_ASSET_RETRY_S": "1"}) as gw:
            detail = wait_until(lambda: (d := model_detail(gw.url))["default_version"] == 1 and "version 2" in d["message"] and d, 120)
            assert "assets of version 2 failed to load" in detail["message"] and "not a number" in detail["message"]

            r = httpx.post(f"{gw.url}/predict", json=BODY, timeout=30)
            assert r.status_code == 200 and r.json()["version"] == 1, r.text
            assert r.json()["outputs"]["graph_tag"] == r.json()["outputs"]["asset_tag"] == 1

            pinned = httpx.post(f"{gw.url}/predict", json={**BODY, "version": 2}, timeout=30)
            assert pinned.status_code == 503 and pinned.headers.get("retry-after"), pinned.text
            message = pinned.json()["error"]["message"]
            assert "cannot serve it" in message and "not a number" in message

            tag.write_text("2")  # repaired in place: picked up at the next retry
            wait_until(lambda: model_detail(gw.url)["default_version"] == 2, 60)
            r = httpx.post(f"{gw.url}/predict", json=BODY, timeout=30)
            assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["outputs"]["asset_tag"] == 2, r.text
            assert model_detail(gw.url)["message"] == ""


def test_broken_assets_of_the_only_loaded_version_answer_503_naming_the_cause(tmp_path: Path) -> None:
    repo, _tag = broken_repo(tmp_path, "latest")
    with ModelServerProcess(repo / "models.config") as server:
        wait_model_available(server.address, MODEL, 2)
        with GatewayProcess(server.address, repo, env={"GATEWAY_ASSET_RETRY_S": "1"}) as gw:
            wait_until(lambda: "version 2" in model_detail(gw.url)["message"], 120)
            r = httpx.post(f"{gw.url}/predict", json=BODY, timeout=30)
            assert r.status_code == 503 and r.headers.get("retry-after"), r.text
            assert "assets of version 2 failed to load" in r.json()["error"]["message"]
            ready = httpx.get(f"{gw.url}/readyz", timeout=10)
            assert ready.status_code == 503 and any("not a number" in reason for reason in ready.json()["reasons"])
            assert httpx.get(f"{gw.url}/healthz", timeout=10).status_code == 200
