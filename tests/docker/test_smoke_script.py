"""scripts/smoke_compose.sh needs a Docker host; here it is at least parsed: the shell by bash, and the
Python client it runs inside the gateway container by the interpreter."""

from __future__ import annotations

import re
import subprocess

from tests.docker import stack

SCRIPT = stack.REPO / "scripts" / "smoke_compose.sh"


def test_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_embedded_client_compiles_and_uses_the_published_contracts() -> None:
    text = SCRIPT.read_text()
    client = re.search(r"<<'PY' \|\| true\n(.*?)\nPY\n", text, re.S)[1]
    compile(client, "smoke-client", "exec")
    # the endpoints and fields it relies on (docs/design.md §5; TF Serving's Prometheus path from monitoring.config)
    for needle in ('"/openapi.json"', '"/models"', '"/predict"', '"served_versions"', '["version"]',
                   "/monitoring/prometheus/metrics"):
        assert needle in client, needle
    assert "/monitoring/prometheus/metrics" in (stack.REPO / "docker" / "tfserving" / "monitoring.config").read_text()
