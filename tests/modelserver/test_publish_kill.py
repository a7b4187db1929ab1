"""A publisher killed (SIGKILL) in the middle of `training.export.publish` leaves no integer-named
directory, the server never sees it, and the next publish takes the next number and cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap

from common.repository import list_versions
from tests.modelserver.conftest import status_of, wait_available
from tests.utils.savedmodels import publish_affine
from tests.utils.servers import REPO_ROOT, python_executable, wait_until

PUBLISHER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.utils.savedmodels import affine_spec
    from training.export import publish

    def write_savedmodel(directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / "saved_model.pb").write_bytes(b"half written")
        (directory / "variables").mkdir()
        print("WRITING", flush=True)
        time.sleep(600)

    spec = affine_spec(9.0, 9.0, model=sys.argv[2])
    spec.write_savedmodel = write_savedmodel
    publish(spec, Path(sys.argv[1]))
    """
)


def test_killed_publish_leaves_no_version(stub, shared_repo):
    model = "killed"
    publish_affine(shared_repo, 1.0, 0.0, model=model)
    wait_available(stub, model, [1])
    proc = subprocess.Popen(
        [python_executable(), "-c", PUBLISHER, str(shared_repo), model],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "WRITING", line + proc.stdout.read()
        leftovers = [p.name for p in (shared_repo / model).iterdir() if p.name.startswith(".tmp-export-")]
        assert leftovers, "the export is being written under a temporary, non-integer name"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert list(list_versions(shared_repo / model)) == [1]
    assert (shared_repo / model / leftovers[0]).exists()  # the dead publisher's temporary stays ignored

    published = publish_affine(shared_repo, 2.0, 0.0, model=model)
    assert published.version == 2
    assert not (shared_repo / model / leftovers[0]).exists()  # cleaned up: its owner is dead
    wait_available(stub, model, [2])
    wait_until(lambda: set(status_of(stub, model)) == {1, 2}, timeout=60)
