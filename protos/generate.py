"""Generate (or check) the Python modules for the wire protos: ``python -m protos.generate [--check]``.

The generated ``*_pb2.py`` files are committed so the gateway image needs no grpcio-tools; ``--check``
regenerates into a temporary directory and fails when the committed files differ (stale code).
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
REPO_ROOT = PROTO_DIR.parent


def proto_sources() -> list[Path]:
    return sorted(PROTO_DIR.glob("*.proto"))


def generate(out_dir: Path) -> None:
    """Run protoc with imports rooted at the repository, so generated code imports ``protos.x_pb2``."""
    # protoc runs in a child process: grpc_tools' compiler crashes a process that already imported TensorFlow.
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [sys.executable, "-m", "grpc_tools.protoc", f"-I{REPO_ROOT}", f"-I{well_known}"]
    args += [f"--python_out={out_dir}", f"--pyi_out={out_dir}"]
    args += [str(p.relative_to(REPO_ROOT)) for p in proto_sources()]
    subprocess.run(args, check=True)


def stale_files() -> list[str]:
    """Names of generated files that are missing or differ from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = sorted((Path(tmp) / "protos").iterdir())
        return [
            f.name for f in fresh if not (PROTO_DIR / f.name).exists() or not filecmp.cmp(f, PROTO_DIR / f.name, shallow=False)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed generated code is stale")
    if parser.parse_args().check:
        stale = stale_files()
        if stale:
            sys.exit(f"generated protos are stale: {', '.join(stale)}; run `make protos`")
        print("generated protos are up to date")
    else:
        generate(REPO_ROOT)
        print(f"generated {len(proto_sources())} proto modules into {PROTO_DIR}")


if __name__ == "__main__":
    main()
