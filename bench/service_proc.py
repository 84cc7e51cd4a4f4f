"""Start a real careplan service for a benchmark: a free port and a server process on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(data: Path, port: int, module: tuple[str, ...] = ("api.service",),
                  api_key: str = "bench") -> subprocess.Popen[bytes]:
    """``python -m <module...> --port PORT`` on ``data`` with ``api_key``; wait for /health.

    Exits the benchmark with one line when the server does not answer within 60 s.
    """
    env = {**os.environ, "CAREPLAN_DATA_DIR": str(data), "CAREPLAN_API_KEY": api_key,
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", *module, "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the service did not answer on port {port} within 60 s")
