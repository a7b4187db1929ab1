"""The gateway process never imports TensorFlow (docs/design.md §7): small image, fast start."""

from __future__ import annotations

import subprocess
import textwrap

from tests.utils.servers import REPO_ROOT, python_executable


def test_gateway_and_all_families_import_without_tensorflow() -> None:
    code = textwrap.dedent(
        """
        import sys
        import gateway.main, gateway.families, gateway.__main__
        import tests.gateway.version_family
        from gateway.core.config import Settings
        app = gateway.main.create_app(Settings(backend="127.0.0.1:1", family_modules=["tests.gateway.version_family"]))
        app.openapi()
        print(sorted(gateway.families.FAMILIES))
        bad = sorted(m for m in sys.modules if m == "tensorflow" or m.startswith(("tensorflow.", "keras", "tensorflow_serving")))
        assert not bad, bad
        """
    )
    r = subprocess.run([python_executable(), "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "versioned" in r.stdout
