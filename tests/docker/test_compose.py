"""docker-compose.yml and docker-compose.cpu.yml, checked without a Docker engine (issue 9).

Schema: the Compose Specification JSON schema as vendored by check-jsonschema (`vendor.compose-spec`, kept in
step with compose-spec/compose-spec by its maintainers), run through its CLI. The override file uses Compose's
`!reset` tag, which plain YAML loaders reject, so each file is validated with its tags resolved, and so is the
merged model. Where a Compose v2 binary exists (`docker compose` or `docker-compose`), `config` is run too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docker import stack

BASE = stack.compose(stack.COMPOSE)
CPU = stack.compose(stack.COMPOSE, stack.COMPOSE_CPU)


def check_schema(documents: dict[str, dict], tmp_path: Path) -> None:
    """One check-jsonschema run over several documents (each run costs seconds of start-up)."""
    # a dev dependency (pyproject `dev` extra) carrying the Compose Specification schema
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed")
    instances = []
    for name, document in documents.items():
        instances.append(tmp_path / f"{name}.json")
        instances[-1].write_text(json.dumps(document))
    cli = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", *map(str, instances)]
    result = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"not following the Compose Specification:\n{result.stdout}{result.stderr}"


def test_files_follow_the_compose_specification(tmp_path: Path) -> None:
    check_schema(
        {
            "docker-compose.yml": stack.strip_tags(stack.load_yaml(stack.COMPOSE)),
            "docker-compose.cpu.yml": stack.strip_tags(stack.load_yaml(stack.COMPOSE_CPU)),
            "merged-gpu": BASE,
            "merged-cpu": CPU,
        },
        tmp_path,
    )


def test_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    """The validator really validates: an unknown depends_on condition and a GPU capability that is not a list are refused."""
    broken = json.loads(json.dumps(BASE))
    broken["services"]["gateway"]["depends_on"]["tfserving"]["condition"] = "service_ready"
    broken["services"]["tfserving"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] = "gpu"
    with pytest.raises(AssertionError, match="Compose Specification") as refused:
        check_schema({"broken": broken}, tmp_path)
    message = str(refused.value)
    assert "'service_ready' is not one of" in message and "capabilities: 'gpu' is not of type 'array'" in message


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        out = subprocess.run([legacy, "version", "--short"], capture_output=True, text=True).stdout.strip()
        if out.lstrip("v").startswith("2"):
            return [legacy]
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no Compose v2 CLI on this machine (the schema tests above still run)")
@pytest.mark.parametrize("files", [["docker-compose.yml"], ["docker-compose.yml", "docker-compose.cpu.yml"]])
def test_docker_compose_config_accepts_the_files(files: list[str]) -> None:
    cli = _compose_cli()
    assert cli is not None
    args = [a for f in files for a in ("-f", f)]
    result = subprocess.run(cli + args + ["--profile", "train", "--profile", "monitoring", "config", "-q"],
                            cwd=stack.REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_services_and_profiles() -> None:
    services = BASE["services"]
    assert set(services) == {"tfserving", "gateway", "trainer", "prometheus"}
    assert "profiles" not in services["tfserving"] and "profiles" not in services["gateway"]  # `docker compose up`
    assert services["trainer"]["profiles"] == ["train"]
    assert services["prometheus"]["profiles"] == ["monitoring"]


@pytest.mark.parametrize("model, files", [("BASE", BASE), ("CPU", CPU)])
def test_every_bind_mount_and_build_path_exists(model: str, files: dict) -> None:
    for name, service in files["services"].items():
        for source, _target, _ro in stack.bind_mounts(service):
            assert (stack.REPO / source).resolve().exists(), f"{model} {name}: bind source {source} does not exist"
        build = service.get("build")
        if build:
            context = stack.REPO / build["context"]
            assert context.is_dir(), f"{name}: build context {build['context']} missing"
            assert (context / build["dockerfile"]).is_file(), f"{name}: {build['dockerfile']} missing"


def test_gpu_reservation_follows_the_compose_specification() -> None:
    for name in ("tfserving", "trainer"):
        devices = BASE["services"][name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}], name


def test_cpu_override_drops_gpus_and_keeps_everything_else() -> None:
    for name in ("tfserving", "trainer"):
        reservations = CPU["services"][name]["deploy"]["resources"]["reservations"]
        assert "devices" not in reservations, f"{name} still reserves GPUs under the CPU override"
    gpu_image, cpu_image = BASE["services"]["tfserving"]["image"], CPU["services"]["tfserving"]["image"]
    assert cpu_image + "-gpu" == gpu_image, "the CPU override must use the CPU build of the same TF Serving release"
    assert CPU["services"]["tfserving"]["command"] == BASE["services"]["tfserving"]["command"]
    assert CPU["services"]["tfserving"]["volumes"] == BASE["services"]["tfserving"]["volumes"]
    assert CPU["services"]["trainer"]["build"]["args"]["TENSORFLOW_REQUIREMENT"] == "tensorflow-cpu==2.21.0"
    assert BASE["services"]["trainer"]["build"]["args"]["TENSORFLOW_REQUIREMENT"] == "tensorflow[and-cuda]==2.21.0"


def test_tfserving_image_is_pinned_to_the_training_tensorflow_release() -> None:
    """SavedModels written by TF 2.21 may use ops an older model server does not know: same release."""
    image = BASE["services"]["tfserving"]["image"]
    m = re.fullmatch(r"tensorflow/serving:(\d+\.\d+\.\d+)-gpu", image)
    assert m, f"tfserving image not pinned to a release: {image}"
    constraints = (stack.REPO / "requirements" / "constraints.txt").read_text()
    assert re.search(rf"^tensorflow_cpu.*-{re.escape(m[1])}-", constraints, re.M), "TF Serving and TensorFlow releases differ"
    assert re.search(rf"^tensorflow-serving-api=={re.escape(m[1])}$", constraints, re.M)


def test_servables_mounted_read_only_for_serving_and_read_write_for_training() -> None:
    services = BASE["services"]
    for name in ("tfserving", "gateway"):
        assert ("./servables", stack.CONTAINER_REPO, True) in stack.bind_mounts(services[name]), name
    assert ("./servables", stack.CONTAINER_REPO, False) in stack.bind_mounts(services["trainer"])
    assert services["trainer"]["environment"]["SERVABLES_DIR"] == stack.CONTAINER_REPO


def test_trainer_reads_the_repository_data_by_default() -> None:
    """The training data is the repository's data/ (issue 23): no mount source outside the repository."""
    trainer = BASE["services"]["trainer"]
    assert ("./data", "/app/data", True) in stack.bind_mounts(trainer)  # ${TRAIN_DATA_DIR:-./data}
    for src, _dst, _ro in stack.bind_mounts(trainer):
        assert ".." not in src, src


def test_gateway_waits_for_healthy_tfserving_and_publishes_8000() -> None:
    gateway = BASE["services"]["gateway"]
    assert gateway["depends_on"]["tfserving"]["condition"] == "service_healthy"
    assert any(str(p).endswith(":8000") for p in gateway["ports"]), gateway["ports"]
    assert gateway["environment"]["GATEWAY_PORT"] == "8000"


def test_gateway_environment_names_are_real_settings() -> None:
    """Every GATEWAY_* variable the stack sets is a field of gateway.core.config.Settings."""
    from gateway.core.config import Settings

    fields = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    names = set(BASE["services"]["gateway"]["environment"])
    dockerfile = stack.DOCKERFILES["gateway"].read_text()
    names |= set(re.findall(r"\b(GATEWAY_[A-Z_]+)=", dockerfile))
    unknown = sorted(n for n in names if n.startswith("GATEWAY_") and n not in fields and not n.startswith("GATEWAY_HEALTHCHECK"))
    assert not unknown, f"not gateway settings: {unknown}"


def test_gateway_round_robins_over_the_tfserving_service() -> None:
    """`--scale tfserving=3`: one DNS name resolving to every replica, and the gateway setting that takes it."""
    backend = BASE["services"]["gateway"]["environment"]["GATEWAY_BACKEND"]
    port = stack.flags(BASE["services"]["tfserving"]["command"])["port"]
    assert backend == f"dns:///tfserving:{port}"
    assert "container_name" not in BASE["services"]["tfserving"], "a fixed container_name forbids --scale"
    assert not BASE["services"]["tfserving"].get("ports"), "published host ports would collide when scaled"


def test_grpc_message_limits_match_the_gateway() -> None:
    args = stack.flags(BASE["services"]["tfserving"]["command"])["grpc_channel_arguments"]
    assert args
    pairs = dict(item.split("=", 1) for item in args.split(","))
    assert all(re.fullmatch(r"grpc\.[a-z_]+", k) and v.isdigit() for k, v in pairs.items()), pairs
    limit = BASE["services"]["gateway"]["environment"]["GATEWAY_MAX_MESSAGE_BYTES"]
    assert pairs["grpc.max_receive_message_length"] == pairs["grpc.max_send_message_length"] == limit


def test_tfserving_healthcheck_script_is_mounted() -> None:
    service = BASE["services"]["tfserving"]
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "bash"
    script = test[2]
    for source, target, _ro in stack.bind_mounts(service):
        if script.startswith(target + "/"):
            assert (stack.REPO / source / script[len(target) + 1:]).is_file()
            break
    else:
        pytest.fail(f"{script} is not on a bind mount of tfserving")


def test_stop_grace_periods() -> None:
    """TF Serving ignores SIGTERM as PID 1 (tensorflow/serving#1853): init forwards it, the grace period is short.
    The gateway drains for GATEWAY_SHUTDOWN_TIMEOUT_S, so its grace period must be longer."""
    tfs, gateway = BASE["services"]["tfserving"], BASE["services"]["gateway"]
    assert tfs["init"] is True and tfs["stop_grace_period"] == "10s"
    drain = float(gateway["environment"]["GATEWAY_SHUTDOWN_TIMEOUT_S"])
    assert int(gateway["stop_grace_period"].rstrip("s")) > drain


def test_prometheus_scrapes_gateway_and_every_tfserving_replica() -> None:
    config = stack.load_yaml(stack.REPO / "docker" / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    monitoring = (stack.REPO / "docker" / "tfserving" / "monitoring.config").read_text()
    metrics_path = re.search(r'path:\s*"([^"]+)"', monitoring)[1]
    rest_port = int(stack.flags(BASE["services"]["tfserving"]["command"])["rest_api_port"])
    expected = {"gateway": ("gateway", 8000, "/metrics"), "tfserving": ("tfserving", rest_port, metrics_path)}
    for job, (service, port, path) in expected.items():
        sd = jobs[job]["dns_sd_configs"][0]
        assert sd["names"] == [service] and sd["type"] == "A" and sd["port"] == port, job
        assert jobs[job]["metrics_path"] == path, job
    mounts = stack.bind_mounts(BASE["services"]["prometheus"])
    assert ("./docker/prometheus/prometheus.yml", "/etc/prometheus/prometheus.yml", True) in mounts
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", BASE["services"]["prometheus"]["image"])
