"""Container HEALTHCHECK of the gateway image: exit 0 only if GET /readyz answers 200.

Why a script and not curl: the slim Python image has no curl, and Python is already there. Standard library
only, so it runs with any interpreter. The port follows GATEWAY_PORT (the same variable the gateway binds).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("GATEWAY_PORT", "8000")
    url = os.environ.get("GATEWAY_HEALTHCHECK_URL", f"http://127.0.0.1:{port}/readyz")
    timeout = float(os.environ.get("GATEWAY_HEALTHCHECK_TIMEOUT_S", "4"))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as e:  # 503 while the backend is down or a model is loading
        print(f"{url}: HTTP {e.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as e:  # not listening yet, or timed out
        print(f"{url}: {e}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
