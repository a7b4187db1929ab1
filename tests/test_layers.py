"""The import graph of the whole tree: layers point down only, and no module imports itself in a circle.

Layers (README): `protos/`, `common/` at the bottom; `modelserver/`, `gateway/`, `training/` above them;
`servectl/`, `scripts/` on top. Inside the gateway, `gateway/api/` is the HTTP edge: only the app factory
(`gateway/main.py`) and the entry point sit above it. Every import counts, including those inside functions
and under `if TYPE_CHECKING:` (a circle hidden there is still a circle for a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("protos", "common", "modelserver", "gateway", "training", "servectl")
LOWER = {"protos": 0, "common": 1, "modelserver": 2, "gateway": 2, "training": 2, "servectl": 3}
ABOVE_GATEWAY_API = {"gateway.main", "gateway.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if not p.name.endswith("_pb2.py") and not p.name.endswith("_pb2_grpc.py")}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules `path` imports (anywhere in the file), resolved to the longest known module name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components with more than one module are the import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def is_package_face(name: str) -> bool:
    """`pkg/__init__.py` importing its own submodules (to register them) is not a circle a reader follows."""
    return (ROOT / Path(*name.split(".")) / "__init__.py").exists()


def test_no_import_circles(graph: dict[str, set[str]]) -> None:
    without_faces = {m: {t for t in targets if not (is_package_face(m) and t.startswith(m + "."))} for m, targets in graph.items()}
    assert strongly_connected(without_faces) == []


def test_layers_point_down(graph: dict[str, set[str]]) -> None:
    upward = []
    for module, targets in graph.items():
        level = LOWER[module.split(".")[0]]
        for target in targets:
            top = target.split(".")[0]
            if LOWER[top] > level or (LOWER[top] == level and top != module.split(".")[0]):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_nothing_below_the_http_edge_imports_gateway_api(graph: dict[str, set[str]]) -> None:
    offenders = [f"{m} -> {t}" for m, targets in graph.items() if m.startswith("gateway.") and not m.startswith("gateway.api")
                 and m not in ABOVE_GATEWAY_API for t in targets if t.startswith("gateway.api")]
    assert offenders == []


def test_families_never_read_the_environment() -> None:
    readers = [str(p.relative_to(ROOT)) for p in (ROOT / "gateway" / "families").glob("*.py") if "os.environ" in p.read_text() or "getenv" in p.read_text()]
    assert readers == []
