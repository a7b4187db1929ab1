"""Every overlay renders with kubectl's kustomize and validates offline: core objects with
`kubernetes-validate --strict` at the pinned Kubernetes release, the KServe InferenceService against its
schema. Each check is also shown to reject a broken object, so none passes by accepting everything."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.manifests import KUBERNETES_VERSION, OVERLAYS, isvc_validator, named, render

CORE_OVERLAYS = ["gpu", "cpu"]


def core_objects(overlay: str) -> list[dict]:
    return [o for o in render(overlay) if not o["apiVersion"].startswith("serving.kserve.io/")]


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_overlay_renders(overlay: str) -> None:
    kinds = {o["kind"] for o in render(overlay)}
    assert {"Namespace", "PersistentVolumeClaim"} <= kinds
    if overlay == "kserve":
        assert "InferenceService" in kinds
    else:
        assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap", "Secret", "Job", "CronJob"} <= kinds


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_core_objects_pass_kubernetes_validate_strict(overlay: str, tmp_path: Path) -> None:
    """The command line the docs give, on the rendered file."""
    rendered = tmp_path / f"{overlay}.yaml"
    rendered.write_text(yaml.safe_dump_all(core_objects(overlay)))
    cli = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run(
        [str(cli), "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(rendered)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_validation_rejects_an_unknown_field() -> None:
    deployment = copy.deepcopy(named(render("gpu"), "Deployment", "gateway"))
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {"httpGet": {"path": "/readyz", "port": 8000}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_inference_service_matches_its_schema() -> None:
    isvc = named(render("kserve"), "InferenceService", "antispam")
    errors = sorted(isvc_validator().iter_errors(isvc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    "path, key, value",
    [
        (("spec", "predictor", "model"), "storageURI", "pvc://x"),  # misspelt field
        (("spec", "predictor", "model"), "protocolVersion", "grpc"),  # not one of KServe's protocols
        (("spec", "transformer", "containers", 0), "imagePullPolicy", 3),  # core type checked through $ref
        (("spec", "transformer", "containers", 0, "env", 0), "valueFrom", {"secretKeyRef": {"nme": "x"}}),
        (("spec",), "transformers", {}),
    ],
)
def test_inference_service_schema_rejects_broken_specs(path: tuple, key: str, value: object) -> None:
    isvc = copy.deepcopy(named(render("kserve"), "InferenceService", "antispam"))
    node = isvc
    for p in path:
        node = node[p]
    node[key] = value
    assert list(isvc_validator().iter_errors(isvc)), f"{path} {key}={value!r} was accepted"
