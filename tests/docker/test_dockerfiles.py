"""docker/gateway.Dockerfile and docker/trainer.Dockerfile, parsed with BuildKit's own Dockerfile parser
(the `dockerfile` package wraps github.com/moby/buildkit/frontend/dockerfile/parser)."""

from __future__ import annotations

import importlib.metadata as md
import re
from pathlib import Path

import pytest

# dev dependency (pyproject `dev` extra); skipped, not failed, on an environment installed without it
dockerfile = pytest.importorskip("dockerfile", reason="`dockerfile` (BuildKit's parser) is not installed")

from tests.docker import stack

PARSED = {name: dockerfile.parse_file(str(path)) for name, path in stack.DOCKERFILES.items()}
FIRST_PARTY = {"protos", "common", "gateway", "training", "servectl", "modelserver"}


def instructions(name: str, cmd: str) -> list[dockerfile.Command]:
    return [c for c in PARSED[name] if c.cmd.upper() == cmd]


def copy_sources(name: str) -> list[str]:
    """Sources of COPY instructions that read the build context (not `--from=` another stage)."""
    out = []
    for c in instructions(name, "COPY"):
        if any(f.startswith("--from") for f in c.flags):
            continue
        out += list(c.value[:-1])
    return out


def copied_packages(name: str) -> set[str]:
    return {src.strip("/") for src in copy_sources(name) if (stack.REPO / src).is_dir()}


def stage_commands(name: str) -> list[list[dockerfile.Command]]:
    stages: list[list[dockerfile.Command]] = []
    for c in PARSED[name]:
        if c.cmd.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(c)
    return stages


@pytest.mark.parametrize("name", sorted(stack.DOCKERFILES))
def test_dockerfile_parses_and_copy_sources_exist_in_the_build_context(name: str) -> None:
    assert PARSED[name], f"{name}: empty"
    patterns = stack.dockerignore_patterns()
    sources = copy_sources(name)
    assert sources
    for src in sources:
        assert (stack.REPO / src).exists(), f"{name}: COPY source {src} does not exist"
        assert not stack.is_ignored(src, patterns), f"{name}: COPY source {src} is excluded by .dockerignore"


def test_dockerignore_matcher_follows_docker_semantics() -> None:
    patterns = stack.dockerignore_patterns()
    for kept in ("pyproject.toml", "gateway/main.py", "protos/rpc.py", "docker/gateway/healthcheck.py"):
        assert not stack.is_ignored(kept, patterns), kept
    for left_out in (".venv/bin/python", ".git/HEAD", "servables/models.config", "tests/conftest.py",
                     "gateway/__pycache__/main.cpython-311.pyc", "docker/trainer.Dockerfile", "README.md"):
        assert stack.is_ignored(left_out, patterns), left_out


@pytest.mark.parametrize("name", sorted(stack.DOCKERFILES))
def test_base_images_are_pinned(name: str) -> None:
    args = {}
    for c in instructions(name, "ARG"):
        key, _, value = c.value[0].partition("=")
        args[key] = value.strip('"')
    for c in instructions(name, "FROM"):
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], c.value[0])
        if image in {s.value[2] for s in instructions(name, "FROM") if len(s.value) > 2}:
            continue  # an earlier stage
        assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", image), f"{name}: base image not pinned: {image}"


def test_gateway_runs_as_an_unprivileged_user_with_a_readyz_healthcheck() -> None:
    final = stage_commands("gateway")[-1]
    users = [c.value[0] for c in final if c.cmd.upper() == "USER"]
    assert users and users[-1] not in {"root", "0"}, "the gateway's final stage must switch to a non-root user"
    healthchecks = [c for c in final if c.cmd.upper() == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and healthchecks[0].value[0] == "CMD"
    script_in_image = healthchecks[0].value[-1]
    copied = {c.value[-1]: c.value[0] for c in final if c.cmd.upper() == "COPY" and not c.flags}
    source = stack.REPO / copied[script_in_image]
    assert "/readyz" in source.read_text()
    cmd = [c for c in final if c.cmd.upper() == "CMD"][-1]
    assert cmd.json and list(cmd.value) == ["python", "-m", "gateway"], "exec form, so uvicorn gets SIGTERM"


def test_gateway_worker_count_is_configurable() -> None:
    from gateway.core.config import Settings

    env = [c for c in stage_commands("gateway")[-1] if c.cmd.upper() == "ENV"][0].value
    pairs = dict(zip(env[::2], env[1::2]))
    assert "workers" in Settings.model_fields and pairs["GATEWAY_WORKERS"] == "1"
    assert "workers=settings.workers" in (stack.REPO / "gateway" / "__main__.py").read_text()


def test_gateway_image_installs_only_the_pinned_gateway_requirements() -> None:
    runs = " ".join(c.value[0] for c in instructions("gateway", "RUN"))
    installs = [" ".join(args.split()) for args in re.findall(r"pip install ([^&]+)", runs)]
    assert installs == ["--no-deps --require-virtualenv -r /tmp/requirements.txt"], "one install: the pinned file, nothing else"
    copied = {c.value[-1]: c.value[0] for c in instructions("gateway", "COPY") if not c.flags}
    assert copied["/tmp/requirements.txt"] == "requirements/gateway.txt"
    assert copied_packages("gateway") == {"protos", "common", "gateway"}


def _distribution_modules(requirements: list[str]) -> set[str]:
    """Top-level import names provided by these distributions (from the installed metadata)."""
    wanted = {re.sub(r"[-_.]+", "-", r).lower() for r in requirements}
    modules = set()
    for module, dists in md.packages_distributions().items():
        if any(re.sub(r"[-_.]+", "-", d).lower() in wanted for d in dists):
            modules.add(module)
    return modules


def test_gateway_code_imports_nothing_the_image_lacks() -> None:
    """Every import in the copied packages is the standard library, a copied package, or provided by
    requirements/gateway.txt; so TensorFlow can never be needed by the gateway image. Imports inside
    functions the gateway never calls are allowed only when listed here with the reason."""
    from tests.docker.test_requirements import gateway_requirements

    packages = copied_packages("gateway")
    provided = _distribution_modules(list(gateway_requirements()))
    dev_tools = {stack.REPO / "protos" / "generate.py"}  # protoc wrapper, run by developers only
    training_only_lazy = {
        ("common/superres.py", "skimage"),  # psnr()/ssim(): evaluation metrics of the SRGAN training job
    }
    missing = [
        f"{i.file.relative_to(stack.REPO)}:{i.line} imports {i.module}"
        for i in stack.imports([stack.REPO / p for p in sorted(packages)])
        if i.file not in dev_tools and not stack.is_stdlib(i.module) and i.module not in packages and i.module not in provided
        and not (i.lazy and (str(i.file.relative_to(stack.REPO)), i.module) in training_only_lazy)
    ]
    assert not missing, "the gateway image would fail on:\n" + "\n".join(missing)


def test_trainer_copies_every_first_party_package_its_code_imports() -> None:
    packages = copied_packages("trainer")
    assert {"protos", "common", "training", "servectl"} <= packages
    missing = [
        f"{i.file.relative_to(stack.REPO)}:{i.line} imports {i.module}"
        for i in stack.imports([stack.REPO / p for p in sorted(packages)])
        if i.module in FIRST_PARTY and i.module not in packages
    ]
    assert not missing, "the trainer image would fail on:\n" + "\n".join(missing)


def test_trainer_installs_gpu_tensorflow_of_the_pinned_release_and_runs_servectl() -> None:
    args = dict(c.value[0].split("=", 1) for c in instructions("trainer", "ARG"))
    assert args["TENSORFLOW_REQUIREMENT"].strip('"') == "tensorflow[and-cuda]==2.21.0"
    runs = " ".join(c.value[0] for c in instructions("trainer", "RUN"))
    assert '"${TENSORFLOW_REQUIREMENT}"' in runs and "--no-deps tensorflow-serving-api" in runs
    assert "/usr/local/bin/servectl" in runs
    env = dict(zip(*[iter(instructions("trainer", "ENV")[-1].value)] * 2))
    assert env["SERVABLES_DIR"] == stack.CONTAINER_REPO and env["PYTHONPATH"] == "/app"
