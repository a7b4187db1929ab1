"""Publish into a repository on a small tmpfs while the disk is full (run by test_disk_full.py).

Run as `unshare --mount [--user --map-root-user] python -m tests.reliability.disk_full_publish WORKDIR`: the
tmpfs is mounted in a private mount namespace, so it disappears with this process whatever happens. Each
round fills the file system until only `leave` bytes are free (real writes of a filler file: ENOSPC comes
from the kernel, nothing is simulated), then publishes a new version of an existing model and the first
version of a new model. Every publish must end either complete (numbered directory with its manifest, the
model in models.config), or with an ExportError saying the disk is full, and in both cases: no
integer-named half version, no `.tmp-export-*` left, `.published` a number, the repository lock free.
Prints one JSON report on stdout.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

SIZE_KB = 4096


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fill(path: Path, leave: int) -> None:
    filler = path / "filler"
    with filler.open("ab") as f:
        while _free(path) > leave:
            try:
                f.write(b"\0" * max(4096, min(1 << 20, _free(path) - leave)))
                f.flush()
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break


def _lock_is_free(repo: Path) -> bool:
    fd = os.open(repo / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _state(repo: Path, model: str) -> dict:
    from common.repository import CONFIG_NAME, list_versions, model_config, read_config

    model_dir = repo / model
    versions = sorted(list_versions(model_dir)) if model_dir.exists() else []
    marker = model_dir / ".published"
    text = marker.read_text() if marker.exists() else None
    return {
        "versions": versions,
        "complete": all((model_dir / str(v) / "saved_model.pb").exists() and (model_dir / str(v) / "assets.extra" / "manifest.json").exists() for v in versions),
        "temporaries": sorted(p.name for p in model_dir.glob(".tmp-export-*")) if model_dir.exists() else [],
        "marker_ok": text is None or text.strip().isdigit(),
        "in_config": model_config(read_config(repo / CONFIG_NAME), model) is not None,
    }


def _publish(repo: Path, model: str, a: float) -> dict:
    from tests.utils.savedmodels import publish_affine
    from training.export import ExportError

    before = _state(repo, model)
    out: dict = {"model": model}
    try:
        out["result"] = f"published {publish_affine(repo, a, 0.0, model=model).version}"
    except ExportError as e:
        out["result"], out["error"] = "ExportError", str(e)
    except BaseException as e:  # noqa: BLE001 - reported; the test accepts ExportError only
        out["result"], out["error"] = type(e).__name__, str(e)[:400]
    after = _state(repo, model)
    new = sorted(set(after["versions"]) - set(before["versions"]))
    out.update(after, new_versions=new)
    return out


def main(work: Path) -> int:
    mnt = work / "tmpfs"
    mnt.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_KB}k", "tmpfs", str(mnt)], check=True)
    from tests.utils.savedmodels import publish_affine

    repo = mnt / "repo"
    first = publish_affine(repo, 1.0, 0.0, model="full")
    size = sum(p.stat().st_size for p in first.path.rglob("*") if p.is_file())
    rounds = []
    # from "nothing fits" to "everything fits", one 4 KiB page at a time through the whole publish
    for i, leave in enumerate([0, size // 2, *range(size, size * 3, 4096)]):
        for model in ("full", f"fresh{i}"):
            (mnt / "filler").unlink(missing_ok=True)
            _fill(mnt, leave)
            free = _free(mnt)
            out = _publish(repo, model, 2.0)
            (mnt / "filler").unlink(missing_ok=True)
            out["free_bytes"], out["lock_free"] = free, _lock_is_free(repo)
            rounds.append(out)
    final = publish_affine(repo, 3.0, 0.0, model="full")  # with room again: the next number, no leftovers
    print(json.dumps({"version_bytes": size, "tmpfs_kb": SIZE_KB, "rounds": rounds, "final_version": final.version,
                      "final": _state(repo, "full")}))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
