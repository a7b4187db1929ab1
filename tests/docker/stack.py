"""Readers for the production stack's files, shared by the tests in this directory.

No Docker engine runs here, so the stack is checked the way Compose and BuildKit read it: YAML with
Compose's `!reset`/`!override` tags, `${VAR:-default}` interpolation, the Compose Specification's merge rules
for the override file, `.dockerignore` patterns with Docker's semantics, and the Python imports each image's
code makes.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
COMPOSE = REPO / "docker-compose.yml"
COMPOSE_CPU = REPO / "docker-compose.cpu.yml"
DOCKERFILES = {"gateway": REPO / "docker" / "gateway.Dockerfile", "trainer": REPO / "docker" / "trainer.Dockerfile"}
CONTAINER_REPO = "/models"  # where servables/ is mounted (docs/design.md §8)


# ---------------------------------------------------------------- YAML with Compose's tags


@dataclass(frozen=True)
class Reset:
    """`!reset value`: remove the attribute set by the files merged before (Compose Specification, merge)."""

    value: Any


@dataclass(frozen=True)
class Override:
    """`!override value`: replace instead of merge."""

    value: Any


class _ComposeLoader(yaml.SafeLoader):
    pass


def _construct(tag_cls: type) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return tag_cls(loader.construct_mapping(node, deep=True))
        if isinstance(node, yaml.SequenceNode):
            return tag_cls(loader.construct_sequence(node, deep=True))
        return tag_cls(loader.construct_scalar(node) if node.value not in ("null", "~", "") else None)

    return construct


_ComposeLoader.add_constructor("!reset", _construct(Reset))
_ComposeLoader.add_constructor("!override", _construct(Override))


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_ComposeLoader)


def strip_tags(node: Any) -> Any:
    """The document as plain data (a tag's value in place of the tag), for schema validation of one file."""
    if isinstance(node, (Reset, Override)):
        return strip_tags(node.value)
    if isinstance(node, dict):
        return {k: strip_tags(v) for k, v in node.items()}
    if isinstance(node, list):
        return [strip_tags(v) for v in node]
    return node


# The attributes whose value the later file replaces instead of appending to (Compose Specification, merge).
_REPLACED_SEQUENCES = {("command",), ("entrypoint",), ("healthcheck", "test")}


def merge(base: Any, override: Any, path: tuple[str, ...] = ()) -> Any:
    """Merge two Compose documents by the specification's rules: mappings merge key by key, sequences append
    (command/entrypoint/healthcheck.test are replaced), scalars are replaced, `!reset` removes, `!override`
    replaces. Enough of the rules for this project's files; `docker compose config` applies all of them."""
    if isinstance(override, Override):
        return strip_tags(override.value)
    if isinstance(base, dict) and isinstance(override, dict):
        out = copy.deepcopy(base)
        for key, value in override.items():
            if isinstance(value, Reset):
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value, path + (key,))
            else:
                out[key] = strip_tags(value)
        return out
    if isinstance(base, list) and isinstance(override, list) and path[-2:] not in _REPLACED_SEQUENCES and path[-1:] not in _REPLACED_SEQUENCES:
        return copy.deepcopy(base) + strip_tags(override)
    return strip_tags(override)


_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """`${VAR}`, `${VAR:-default}`, `${VAR-default}` as Compose resolves them with `env` as the environment."""
    env = env or {}

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"] or ""
        value = env.get(name)
        if op in (":-",) and not value:
            return arg
        if op == "-" and value is None:
            return arg
        return value or ""

    return _INTERPOLATION.sub(sub, text)


def compose(*paths: Path) -> dict[str, Any]:
    """The merged, interpolated (defaults only) model of the given Compose files."""
    model: Any = {}
    for p in paths:
        doc = yaml.load(interpolate(p.read_text()), Loader=_ComposeLoader)
        model = merge(model, doc) if model else strip_tags(doc)
    return model


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of a service's bind mounts (short syntax `src:dst[:ro]`); named volumes skipped."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            if v.get("type") == "bind":
                out.append((v["source"], v["target"], bool(v.get("read_only"))))
            continue
        parts = v.split(":")
        src, dst = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else "rw"
        if src.startswith((".", "/", "~")):
            out.append((src, dst, "ro" in mode.split(",")))
    return out


def flags(command: list[str]) -> dict[str, str | None]:
    """`--name=value` / `--name` items of a command list."""
    out: dict[str, str | None] = {}
    for item in command:
        assert item.startswith("--"), f"not a flag: {item!r}"
        name, sep, value = item[2:].partition("=")
        out[name] = value if sep else None
    return out


def tf_serving_flags() -> set[str]:
    lines = (FIXTURES / "tf_serving_flags.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


# ---------------------------------------------------------------- .dockerignore


def dockerignore_patterns(path: Path = REPO / ".dockerignore") -> list[tuple[str, bool]]:
    """(pattern, exclude) pairs in file order; `!pattern` re-includes. Patterns are cleaned as Docker does."""
    out = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        out.append((pattern, exclude))
    return out


def _pattern_matches(pattern: str, rel: str) -> bool:
    """Docker's matcher: path segments matched with filepath.Match semantics, `**` spanning any number of them."""
    pat_parts, path_parts = pattern.split("/"), rel.split("/")

    def match(i: int, j: int) -> bool:
        if i == len(pat_parts):
            return j == len(path_parts)
        if pat_parts[i] == "**":
            return any(match(i + 1, k) for k in range(j, len(path_parts) + 1))
        return j < len(path_parts) and fnmatch.fnmatchcase(path_parts[j], pat_parts[i]) and match(i + 1, j + 1)

    return match(0, 0)


def is_ignored(rel: str, patterns: list[tuple[str, bool]]) -> bool:
    """Whether the build context leaves out `rel` (a path relative to the context): the last pattern that
    matches the path or one of its parent directories decides."""
    parts = rel.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern, exclude in patterns:
        if any(_pattern_matches(pattern, c) for c in candidates):
            ignored = exclude
    return ignored


# ---------------------------------------------------------------- imports of an image's code


@dataclass(frozen=True)
class Import:
    module: str  # top-level package name
    file: Path
    line: int
    lazy: bool  # inside a function body: fails only when that function runs


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside `if TYPE_CHECKING:` or a `try:` that catches ImportError: not needed at run time."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test) and child in parent.body:
            return True
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                names = ast.unparse(handler.type) if handler.type is not None else "BaseException"
                if "ImportError" in names or "ModuleNotFoundError" in names:
                    return True
        child = parent
    return False


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def imports(roots: list[Path]) -> list[Import]:
    """Every absolute import (module level or inside functions) in the .py files under `roots`."""
    out = []
    for root in roots:
        for file in sorted(root.rglob("*.py")):
            if "__pycache__" in file.parts:
                continue
            tree = ast.parse(file.read_text(), filename=str(file))
            parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
            for node in ast.walk(tree):
                if not isinstance(node, (ast.Import, ast.ImportFrom)) or _guarded(node, parents):
                    continue
                lazy = _in_function(node, parents)
                if isinstance(node, ast.Import):
                    out += [Import(a.name.split(".")[0], file, node.lineno, lazy) for a in node.names]
                elif node.level == 0 and node.module:
                    out.append(Import(node.module.split(".")[0], file, node.lineno, lazy))
    return out


def is_stdlib(module: str) -> bool:
    return module in sys.stdlib_module_names or module == "__future__"
