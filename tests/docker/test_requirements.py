"""requirements/gateway.txt: exact pins from requirements/constraints.txt, everything pyproject's [project]
dependencies need (checked against the installed packages' own metadata), and no TensorFlow (docs/design.md §7)."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib

from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.docker import stack

NO_TENSORFLOW = {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tf-keras", "keras",
                 "tensorboard", "tensorflow-serving-api", "tensorflow-io-gcs-filesystem", "tf-nightly"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def gateway_requirements() -> dict[str, Requirement]:
    out = {}
    for line in (stack.REPO / "requirements" / "gateway.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            out[canonical(req.name)] = req
    return out


def constraints() -> dict[str, str]:
    out = {}
    for line in (stack.REPO / "requirements" / "constraints.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)$", line.strip())
        if m:
            out[canonical(m[1])] = m[2]
    return out


def test_every_requirement_is_pinned_to_the_constraints_version() -> None:
    pins = constraints()
    for name, req in gateway_requirements().items():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{name} is not pinned exactly"
        assert pins.get(name) == specs[0].version, f"{name}=={specs[0].version} but constraints say {pins.get(name)}"


def test_no_tensorflow_in_the_gateway_image() -> None:
    assert not NO_TENSORFLOW & set(gateway_requirements())


def test_pyproject_dependencies_are_covered_with_their_extras() -> None:
    reqs = gateway_requirements()
    project = tomllib.loads((stack.REPO / "pyproject.toml").read_text())["project"]
    for dep in map(Requirement, project["dependencies"]):
        assert canonical(dep.name) in reqs, f"[project] dependency {dep.name} missing from requirements/gateway.txt"
        assert dep.extras <= reqs[canonical(dep.name)].extras, f"{dep} needs its extras named"


def test_requirements_are_closed_under_their_dependencies() -> None:
    """The image installs with --no-deps, so every dependency (with the extras asked for) must be listed."""
    reqs = gateway_requirements()
    env = default_environment() | {"python_version": "3.11", "python_full_version": "3.11.14"}
    missing = []
    for name, req in reqs.items():
        for extra in {""} | req.extras:
            for raw in md.requires(req.name) or []:
                dep = Requirement(raw)
                if dep.marker is not None and not dep.marker.evaluate(env | {"extra": extra}):
                    continue
                if canonical(dep.name) not in reqs:
                    missing.append(f"{req.name}{'[' + extra + ']' if extra else ''} needs {dep}")
    assert not missing, "\n".join(sorted(set(missing)))
