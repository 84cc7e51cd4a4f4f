"""serve(host, port): hand over to ``python -m api.service`` (called by ``careplan serve``).

The command line and the service never import each other: the service's own entry point makes
the start-up checks (key off loopback, writable data dir, one server per data dir) and serves.
"""

from __future__ import annotations

import os
import sys


def serve(host: str, port: int, *, insecure_open: bool = False) -> None:
    """Replace this process by the service on ``host:port`` (data dir: CAREPLAN_DATA_DIR)."""
    argv = [sys.executable, "-m", "api.service", "--host", host, "--port", str(port)]
    if insecure_open:
        argv.append("--insecure-open")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
