"""Disk full during publish, for real: a 4 MiB tmpfs filled page by page until ENOSPC hits every step of
`training.export.publish` (the SavedModel copy, the warm-up records, the manifest, `.published`,
models.config). See disk_full_publish.py for the rounds; here the outcome of each is checked.

Honest ENOSPC needs a small file system: the child mounts a tmpfs in its own mount namespace (`unshare
--mount`; as non-root also `--user --map-root-user`). Where neither is allowed the test is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.reliability.figures import record
from tests.utils.servers import REPO_ROOT, python_executable


def test_disk_full_during_publish_leaves_no_half_version_and_a_clear_error(tmp_path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare(1) is not installed: cannot mount a small tmpfs to fill")
    ns = ["unshare", "--mount", "--propagation", "private"] + ([] if os.geteuid() == 0 else ["--user", "--map-root-user"])
    proc = subprocess.run(
        [*ns, python_executable(), "-m", "tests.reliability.disk_full_publish", str(tmp_path)],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0 and ("mount" in proc.stderr and ("ermission" in proc.stderr or "not permitted" in proc.stderr)
                                 or "unshare failed" in proc.stderr):
        pytest.skip(f"no private tmpfs here (needs root or unprivileged user namespaces): {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    rounds = report["rounds"]
    failed = [r for r in rounds if not r["result"].startswith("published")]
    published = [r for r in rounds if r["result"].startswith("published")]
    assert failed and published, "the sweep must cover both a full disk and enough room"
    for r in rounds:
        where = f"{r['model']} with {r['free_bytes']} bytes free: {r}"
        assert r["lock_free"] and r["temporaries"] == [] and r["marker_ok"] and r["complete"], where
        if r["result"].startswith("published"):
            assert r["new_versions"] == [int(r["result"].split()[1])] and r["in_config"], where
        else:
            assert r["result"] == "ExportError", where  # never a raw OSError / shutil.Error / TF error
            assert "not published, the disk holding" in r["error"] and "is full" in r["error"], where
            assert r["new_versions"] == [], where  # no integer-named half version
    assert report["final"]["versions"][-1] == report["final_version"] and report["final"]["complete"]
    record("disk full during publish", rounds=len(rounds), failed_publishes=len(failed), published=len(published),
           half_versions=0, tmpfs_kb=report["tmpfs_kb"], version_bytes=report["version_bytes"],
           simulation="tmpfs (private mount namespace) filled with real writes until ENOSPC")
