"""Every ``careplan ...`` command in the README's ```bash blocks runs as written (issue 12).

The commands run from the repository root, in README order, after ``careplan demo --out
out/demo`` (HELPERS.md convention); a command exiting non-zero fails the test with its output.
``careplan serve`` is started, must answer ``/health``, and is stopped. Commands that need the
user's own files or the internet belong in ```text blocks and are not run. Marked ``slow``
(about 3 minutes); ``.ci/run`` runs it after the default suite.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
HIGHS_BANNER = "Running HiGHS"


def readme_commands(text: str) -> list[list[str]]:
    """The ``careplan`` commands of the ```bash blocks as argument lists (``careplan`` dropped).

    Continuation lines (trailing backslash) are joined; ``# comments`` are removed.

    Examples
    --------
    >>> readme_commands("```bash\\ncareplan a --x 1 \\\\\\n  --y 2   # note\\nls\\n```\\n")
    [['a', '--x', '1', '--y', '2']]
    """
    commands = []
    for block in BLOCK.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            if line.startswith("careplan "):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key in ("CAREPLAN_API_KEY", "CAREPLAN_DATABASE_URL", "CAREPLAN_TIANDITU_KEY"):
        env.pop(key, None)
    return env


def _busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(args: list[str], tmp_path: Path) -> None:
    """Start ``careplan serve``, wait for /health on its port, stop it."""
    port = args[args.index("--port") + 1] if "--port" in args else "8000"
    if _busy(int(port)):  # another service on this machine: same command, a free port
        port = str(_free_port())
        args = [*args[:args.index("--port")], "--port", port] if "--port" in args \
            else [*args, "--port", port]
    env = {**_env(), "CAREPLAN_DATA_DIR": str(tmp_path / "serve-data")}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else b""
                pytest.fail(f"careplan {' '.join(args)} exited: {err.decode()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        pytest.fail(f"careplan {' '.join(args)} did not answer /health within 60 s")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()


def test_readme_example_toml_blocks_are_valid() -> None:
    text = README.read_text(encoding="utf-8")
    for block in re.findall(r"^```toml\n(.*?)^```", text, re.S | re.M):
        tomllib.loads(block)


def test_scenario_docstring_example_is_valid_toml() -> None:
    import planner.io.scenarios as scenarios  # noqa: PLC0415

    example = (scenarios.__doc__ or "").split("::\n\n", 1)[1]
    data = tomllib.loads("\n".join(line[4:] for line in example.splitlines()))
    assert data["add"][0]["facility_id"] == "new1" and data["remove"] == ["f3", "f9"]


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path: Path) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert ["demo", "--out", "out/demo"] in commands and len(commands) >= 10
    for args in [["demo", "--out", "out/demo"], *commands]:
        if args[0] == "serve":
            _serve(args, tmp_path)
            continue
        out_dir = args[args.index("--out") + 1] if "--out" in args else None
        if out_dir and out_dir.startswith("out/"):  # a rerun overwrites its own outputs
            shutil.rmtree(ROOT / out_dir, ignore_errors=True)
        done = subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=_env(),
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (f"careplan {' '.join(args)} exited {done.returncode}:\n"
                                      f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        assert HIGHS_BANNER not in done.stdout, f"solver banner on stdout of {args}"
        if args[0] == "site":
            assert HIGHS_BANNER in (ROOT / str(out_dir) / "solver.log").read_text(encoding="utf-8")
