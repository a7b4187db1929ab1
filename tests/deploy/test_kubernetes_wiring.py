"""The rendered objects wire up: selectors match pod labels, Services, probes and policies name ports that
containers open, every volume mounted is declared and sits where the code reads it, every GATEWAY_* variable is
a Settings field with a valid value, and the drain fits in the termination grace periods."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from common import repository as repo
from common.model_status_probe import main as probe_main  # noqa: F401 - the sidecar's module must import
from gateway.core.config import Settings
from tests.deploy.manifests import KUBE, REPO, container, env_of, mount_of, named, of_kind, pod_spec, render, workloads
from tests.docker import stack

CORE = ["gpu", "cpu"]
SETTINGS_ENV = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}


def container_ports(spec: dict) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", []) if "name" in p}


def port_number(spec: dict, port: int | str) -> int:
    return port if isinstance(port, int) else container_ports(spec)[port]


def tfserving_flags(overlay: str) -> dict[str, str | None]:
    spec = pod_spec(named(render(overlay), "Deployment", "tfserving"))
    c = container(spec, "tfserving")
    assert c["command"] == ["/usr/bin/tensorflow_model_server"]
    return stack.flags(c["args"])


@pytest.mark.parametrize("overlay", CORE)
def test_selectors_match_pod_labels(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    for d in deployments:
        assert d["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items(), d["metadata"]["name"]
    for kind in ("Service", "PodDisruptionBudget"):
        for o in of_kind(objects, kind):
            selector = o["spec"]["selector"] if kind == "Service" else o["spec"]["selector"]["matchLabels"]
            targets = [d for d in deployments if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
            assert len(targets) == 1, f"{kind}/{o['metadata']['name']} selects {len(targets)} Deployments"
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        target = named(objects, ref["kind"], ref["name"])
        c = pod_spec(target)["containers"][0]
        assert "cpu" in c["resources"]["requests"], "a CPU-utilization HPA needs CPU requests"


@pytest.mark.parametrize("overlay", CORE)
def test_service_ports_reach_container_ports(overlay: str) -> None:
    objects = render(overlay)
    for svc in of_kind(objects, "Service"):
        d = next(d for d in of_kind(objects, "Deployment") if svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items())
        ports = container_ports(pod_spec(d))
        for p in svc["spec"]["ports"]:
            assert p["targetPort"] in ports or p["targetPort"] in ports.values(), (svc["metadata"]["name"], p)


@pytest.mark.parametrize("overlay", CORE)
def test_tfserving_serves_the_shared_repository(overlay: str) -> None:
    objects = render(overlay)
    spec = pod_spec(named(objects, "Deployment", "tfserving"))
    flags = tfserving_flags(overlay)
    unknown = sorted(set(flags) - stack.tf_serving_flags())
    assert not unknown, f"not flags of tensorflow_model_server: {unknown}"
    assert int(flags["file_system_poll_wait_seconds"]) > 0 and int(flags["model_config_file_poll_wait_seconds"]) > 0
    assert container_ports(spec)["grpc"] == int(flags["port"]) and container_ports(spec)["http"] == int(flags["rest_api_port"])
    tfs = container(spec, "tfserving")
    mount, volume = mount_of(spec, tfs, flags["model_config_file"])
    assert mount["readOnly"] and volume["persistentVolumeClaim"]["readOnly"]
    assert mount["mountPath"] == repo.CONTAINER_ROOT, "models.config's base paths are /models/<name> (docs/design.md §8)"
    pvc = named(objects, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # monitoring.config comes from the ConfigMap, identical to the compose stack's file
    mount, volume = mount_of(spec, tfs, flags["monitoring_config_file"])
    cm = named(objects, "ConfigMap", volume["configMap"]["name"])
    assert cm["data"][Path(flags["monitoring_config_file"]).name] == (REPO / "docker" / "tfserving" / "monitoring.config").read_text()
    assert "prometheus_config" in cm["data"]["monitoring.config"]
    annotations = named(objects, "Deployment", "tfserving")["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == int(flags["rest_api_port"])
    assert annotations["prometheus.io/path"] in cm["data"]["monitoring.config"]


@pytest.mark.parametrize("overlay", CORE)
def test_tfserving_readiness_is_the_model_status_probe(overlay: str) -> None:
    spec = pod_spec(named(render(overlay), "Deployment", "tfserving"))
    probe = container(spec, "model-status-probe")
    assert probe["command"] == ["python", "-m", "common.model_status_probe"]
    args = dict(a[2:].split("=", 1) for a in probe["args"])
    assert args["address"] == f"127.0.0.1:{tfserving_flags(overlay)['port']}"  # same pod
    assert args["model-config"] == tfserving_flags(overlay)["model_config_file"]
    mount, _ = mount_of(spec, probe, args["model-config"])
    assert mount["readOnly"]
    assert port_number(spec, probe["readinessProbe"]["httpGet"]["port"]) == int(args["serve"])
    assert probe["readinessProbe"]["httpGet"]["path"] == "/ready" and probe["livenessProbe"]["httpGet"]["path"] == "/live"
    assert "readinessProbe" not in container(spec, "tfserving"), "readiness is the sidecar's: REST status says 200 while loading"


@pytest.mark.parametrize("overlay", CORE)
def test_gateway_reaches_every_tfserving_replica(overlay: str) -> None:
    objects = render(overlay)
    spec = pod_spec(named(objects, "Deployment", "gateway"))
    env = env_of(objects, container(spec, "gateway"))
    target = re.fullmatch(r"dns:///([a-z0-9-]+):(\d+)", env["GATEWAY_BACKEND"] or "")
    assert target, env["GATEWAY_BACKEND"]
    svc = named(objects, "Service", target.group(1))
    assert svc["spec"]["clusterIP"] == "None", "a ClusterIP Service pins each HTTP/2 connection to one pod"
    port = next(p for p in svc["spec"]["ports"] if p["port"] == int(target.group(2)))
    tfs_spec = pod_spec(named(objects, "Deployment", "tfserving"))
    assert port_number(tfs_spec, port["targetPort"]) == int(tfserving_flags(overlay)["port"])
    # only the gateway's pods may reach that port
    policy = named(objects, "NetworkPolicy", "tfserving-from-gateway")
    tfs_labels = named(objects, "Deployment", "tfserving")["spec"]["template"]["metadata"]["labels"]
    gw_labels = named(objects, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= tfs_labels.items()
    grpc_rules = [r for r in policy["spec"]["ingress"] if any(p["port"] == int(tfserving_flags(overlay)["port"]) for p in r["ports"])]
    assert len(grpc_rules) == 1 and [f["podSelector"]["matchLabels"] for f in grpc_rules[0]["from"]] == [{"app.kubernetes.io/name": "gateway"}]
    assert grpc_rules[0]["from"][0]["podSelector"]["matchLabels"].items() <= gw_labels.items()


@pytest.mark.parametrize("overlay", CORE)
def test_gateway_settings_are_settings_fields(overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render(overlay)
    spec = pod_spec(named(objects, "Deployment", "gateway"))
    c = container(spec, "gateway")
    env = env_of(objects, c)
    unknown = sorted(k for k in env if k.startswith("GATEWAY_") and k not in SETTINGS_ENV)
    assert not unknown, f"not gateway Settings fields: {unknown}"
    for e in c["env"]:
        if "valueFrom" in e:
            ref = e["valueFrom"]["secretKeyRef"]
            secret = named(objects, "Secret", ref["name"])
            assert ref["key"] in secret["data"], (ref, sorted(secret["data"]))
    for key in list(os.environ):
        if key.startswith("GATEWAY_"):
            monkeypatch.delenv(key)
    for k, v in env.items():
        if v is not None:
            monkeypatch.setenv(k, v)
    settings = Settings()  # the ConfigMap's values are valid settings
    assert str(settings.servables) == "/models"
    mount, volume = mount_of(spec, c, str(settings.servables) + "/models.config")
    assert mount["readOnly"] and volume["persistentVolumeClaim"]["claimName"] == "model-repository"
    assert port_number(spec, c["readinessProbe"]["httpGet"]["port"]) == settings.port
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    annotations = named(objects, "Deployment", "gateway")["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == settings.port and annotations["prometheus.io/path"] == "/metrics"
    assert settings.workers > 1, "several workers per gateway pod"
    # drain: preStop, then uvicorn drains for shutdown_timeout_s; all before the kubelet's SIGKILL
    pre_stop = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert int(pre_stop[1]) + settings.shutdown_timeout_s < spec["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("overlay", CORE)
def test_tfserving_drain_covers_connection_recycling(overlay: str) -> None:
    spec = pod_spec(named(render(overlay), "Deployment", "tfserving"))
    args = dict(kv.split("=") for kv in tfserving_flags(overlay)["grpc_channel_arguments"].split(","))
    age_s = int(args["grpc.max_connection_age_ms"]) / 1000
    grace_s = int(args["grpc.max_connection_age_grace_ms"]) / 1000
    pre_stop = shlex.split(container(spec, "tfserving")["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pre_stop[0] == "sleep"
    # gRPC jitters max_connection_age by ±10 %: every gateway connection has been recycled (and re-resolved
    # without this pod) before the preStop ends, and the pod is killed only after it
    assert age_s * 1.1 + grace_s <= int(pre_stop[1]) < spec["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("overlay", CORE)
def test_every_mount_is_declared_and_the_trainer_writes_the_repository(overlay: str) -> None:
    objects = render(overlay)
    claims = {p["metadata"]["name"] for p in of_kind(objects, "PersistentVolumeClaim")}
    config_maps = {c["metadata"]["name"] for c in of_kind(objects, "ConfigMap")}
    for w in workloads(objects):
        spec = pod_spec(w)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            for m in c.get("volumeMounts", []):
                assert m["name"] in volumes, (w["metadata"]["name"], c["name"], m["name"])
        for v in volumes.values():
            if "persistentVolumeClaim" in v:
                assert v["persistentVolumeClaim"]["claimName"] in claims
            if "configMap" in v:
                assert v["configMap"]["name"] in config_maps
    for kind in ("Job", "CronJob"):
        spec = pod_spec(named(objects, kind, "trainer-antispam"))
        c = container(spec, "trainer")
        env = {e["name"]: e["value"] for e in c["env"]}
        mount, volume = mount_of(spec, c, env["SERVABLES_DIR"] + "/models.config")
        assert not mount.get("readOnly") and volume["persistentVolumeClaim"]["claimName"] == "model-repository"
        assert c["command"][:2] == ["servectl", "train"]
        data_mount, _ = mount_of(spec, c, env["ANTISPAM_DATA_DIR"])
        assert data_mount["readOnly"]


def test_gpu_overlay_asks_for_gpus_and_cpu_overlay_for_none() -> None:
    gpu = named(render("gpu"), "Deployment", "tfserving")
    tfs = container(pod_spec(gpu), "tfserving")
    assert tfs["image"] == "tensorflow/serving:2.21.0-gpu"
    assert tfs["resources"]["limits"]["nvidia.com/gpu"] == 1
    for kind in ("Job", "CronJob"):
        assert container(pod_spec(named(render("gpu"), kind, "trainer-antispam")), "trainer")["resources"]["limits"]["nvidia.com/gpu"] == 1
    cpu = named(render("cpu"), "Deployment", "tfserving")
    assert container(pod_spec(cpu), "tfserving")["image"] == "tensorflow/serving:2.21.0"
    assert "nvidia.com/gpu" not in str(render("cpu"))


def test_images_match_the_compose_stack_and_the_package_version() -> None:
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    compose_image = stack.compose(stack.COMPOSE)["services"]["tfserving"]["image"]
    images = {c["image"] for w in workloads(render("gpu")) for c in pod_spec(w)["containers"]}
    assert compose_image in images
    assert f"tl-serving/gateway:{version}" in images and f"tl-serving/trainer:{version}" in images


def test_kserve_transformer_is_our_gateway_on_the_predictors_grpc() -> None:
    objects = render("kserve")
    isvc = named(objects, "InferenceService", "antispam")
    predictor, transformer = isvc["spec"]["predictor"], isvc["spec"]["transformer"]
    assert predictor["model"]["modelFormat"]["name"] == "tensorflow" and predictor["model"]["protocolVersion"] == "grpc-v1"
    assert [p["name"] for p in predictor["model"]["ports"]] == ["h2c"]
    claim = re.fullmatch(r"pvc://([a-z0-9-]+)/(\w+)", predictor["model"]["storageUri"])
    assert claim and named(objects, "PersistentVolumeClaim", claim.group(1))
    assert claim.group(2) == isvc["metadata"]["name"], "KServe's TF Serving runtime serves the model named after the InferenceService"
    c = container(transformer, "kserve-container")
    env = {e["name"]: e["value"] for e in c["env"]}
    assert not sorted(k for k in env if k not in SETTINGS_ENV)
    assert env["GATEWAY_BACKEND"] == f"dns:///{isvc['metadata']['name']}-predictor.{isvc['metadata']['namespace']}.svc.cluster.local:80"
    assert env["GATEWAY_PORT"] == "8080", "KServe sends a transformer's traffic to 8080"
    assert c["readinessProbe"]["httpGet"]["port"] == 8080
    # KServe appends --model_name/--predictor_host/--http_port: the shell takes them as $1... and ignores them
    assert c["command"][:2] == ["/bin/sh", "-c"] and "$" not in c["command"][2]
    # the transformer's models.config lists exactly the predictor's model, on the shared repository's mount
    mount, volume = mount_of(transformer, c, env["GATEWAY_SERVABLES"] + "/models.config")
    cm = named(objects, "ConfigMap", volume["configMap"]["name"])
    config = repo.parse_config_text(cm["data"]["models.config"])
    [model] = config.model_config_list.config
    assert model.name == isvc["metadata"]["name"]
    repo_mount, repo_volume = mount_of(transformer, c, model.base_path)
    assert repo_volume["persistentVolumeClaim"]["claimName"] == claim.group(1) and repo_mount["readOnly"]
    assert model.base_path == repo_mount["mountPath"] + "/" + claim.group(2), "same directory the predictor serves"
    assert (KUBE / "overlays" / "kserve" / "models.config").exists()


def test_admin_writable_component_makes_only_the_gateway_mount_writable(tmp_path: Path) -> None:
    import subprocess

    import kubernetes_validate
    import yaml

    from tests.deploy.manifests import KUBERNETES_VERSION, kubectl

    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - {os.path.relpath(KUBE / 'overlays' / 'gpu', tmp_path)}\n"
        f"components:\n  - {os.path.relpath(KUBE / 'components' / 'admin-writable', tmp_path)}\n"
    )
    out = subprocess.run([kubectl(), "kustomize", str(tmp_path)], check=True, capture_output=True, text=True, timeout=120).stdout
    objects = tuple(d for d in yaml.safe_load_all(out) if d)
    spec = pod_spec(named(objects, "Deployment", "gateway"))
    mount, volume = mount_of(spec, container(spec, "gateway"), "/models/models.config")
    assert mount["readOnly"] is False and volume["persistentVolumeClaim"]["readOnly"] is False
    tfs = pod_spec(named(objects, "Deployment", "tfserving"))
    assert mount_of(tfs, container(tfs, "tfserving"), "/models/models.config")[0]["readOnly"] is True
    kubernetes_validate.validate(named(objects, "Deployment", "gateway"), KUBERNETES_VERSION, strict=True)


def test_servectl_job_reaches_the_gateway_and_writes_the_repository() -> None:
    import kubernetes_validate
    import yaml

    from tests.deploy.manifests import KUBERNETES_VERSION

    job = yaml.safe_load((KUBE / "jobs" / "servectl.yaml").read_text())
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    objects = render("gpu")
    spec = pod_spec(job)
    c = container(spec, "servectl")
    env = {e["name"]: e for e in c["env"]}
    svc = named(objects, "Service", "gateway")
    assert env["GATEWAY_URL"]["value"] == f"http://{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc.cluster.local"
    assert [p["port"] for p in svc["spec"]["ports"]] == [80]
    ref = env["GATEWAY_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] in named(objects, "Secret", ref["name"])["data"]  # the Secret's name carries no hash suffix
    assert job["metadata"]["namespace"] == svc["metadata"]["namespace"]
    mount, volume = mount_of(spec, c, env["SERVABLES_DIR"]["value"] + "/models.config")
    assert not mount.get("readOnly") and named(objects, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
