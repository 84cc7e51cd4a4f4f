"""Issue 13 with real server processes: start-up refusals (key off loopback, unwritable data dir,
data dir in use), no server banner, keep-alive after a 500, disk full (tmpfs) and a read-only data
dir (a read-only mount; skipped where this test cannot mount)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import KEY, MakeClient, assert_problem, wait_job

ROOT = Path(__file__).resolve().parents[3]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data: Path, *args: str, key: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CAREPLAN_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    env.pop("CAREPLAN_API_KEY", None)
    env.pop("CAREPLAN_DATABASE_URL", None)
    if key:
        env["CAREPLAN_API_KEY"] = key
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _refused(proc: subprocess.Popen[bytes]) -> str:
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the server started instead of refusing")
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 1, err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`careplan serve` on loopback without a key (writes open to this machine)."""
    port = _port()
    proc = _serve(tmp_path_factory.mktemp("live"), "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "no start in 60 s"
        time.sleep(0.2)
    yield base, proc
    proc.terminate()
    proc.wait(timeout=20)


def test_off_loopback_without_key_refuses(tmp_path: Path) -> None:
    err = _refused(_serve(tmp_path / "d", "--host", "0.0.0.0", "--port", str(_port())))
    assert "CAREPLAN_API_KEY" in err and "--insecure-open" in err


def test_unwritable_data_dir_exits_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    err = _refused(_serve(blocker / "data", "--port", str(_port())))
    assert "not writable" in err and "CAREPLAN_DATA_DIR" in err


def test_second_server_on_same_data_dir_refuses(make_client: MakeClient, tmp_path: Path) -> None:
    """The first server's temporary result folder and running state survive a second start."""
    data = tmp_path / "shared"
    first = make_client(data_dir=data)
    pending = data / "results" / ".inflight.tmp"
    pending.mkdir(parents=True)
    err = _refused(_serve(data, "--port", str(_port()), key="k"))
    assert "in use" in err
    assert pending.is_dir()
    assert first.get("/health/ready").status_code == 200


def test_loopback_warns_and_no_banner(live: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, proc = live
    response = httpx.get(f"{base}/health")
    assert "server" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    head = proc.stderr.read(4096) or b""
    assert b"writes are open to anyone on this machine" in head


def test_connection_survives_a_500(live: tuple[str, subprocess.Popen[bytes]],
                                   tmp_path: Path) -> None:
    """A result layer replaced by garbage makes the items request fail (500 problem); the next
    request on the same keep-alive connection is answered."""
    base, _ = live
    with httpx.Client(base_url=base, timeout=60) as client:
        project = client.post("/projects", json={"source": "demo"}).json()["id"]
        started = client.post("/processes/coverage/execution",
                              json={"inputs": {"project": project}}).json()
        job = wait_job(client, started["jobID"])  # type: ignore[arg-type]
        result = client.get(f"/jobs/{job['jobID']}/results").json()["resultID"]
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    layer = _result_dir(result) / "layers" / "gaps.geojson"
    layer.write_text("{ not geojson")
    conn.request("GET", f"/projects/{project}/collections/gaps/items")
    broken = conn.getresponse()
    broken.read()
    assert broken.status == 500
    assert broken.getheader("content-type", "").startswith("application/problem+json")
    conn.request("GET", "/health")
    after = conn.getresponse()
    assert after.status == 200 and after.read()


def _result_dir(result_id: str) -> Path:
    hits = list(Path("/tmp").glob(f"pytest-of-*/pytest-*/live*/results/{result_id}"))
    if not hits:
        pytest.skip("cannot find the live server's data dir")
    return hits[-1]


def _mount_tmpfs(target: Path, size: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                          capture_output=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); needs root")


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "disk"
    _mount_tmpfs(target, "3m")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_disk_full_is_507_and_read_only_is_503(make_client: MakeClient, small_disk: Path) -> None:
    client: TestClient = make_client(data_dir=small_disk)
    project = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
    big = b"name,lon,lat\n" + b"x,104.06,30.66\n" * 300_000
    response = client.post(f"/projects/{project}/uploads", data={"kind": "facilities"},
                           files={"file": ("big.csv", big)}, headers=KEY)
    assert "disk is full" in assert_problem(response, 507)["detail"]
    assert client.get(f"/projects/{project}").status_code == 200
    client.__exit__(None, None, None)  # release the data dir, then make it read-only
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    err = _refused(_serve(small_disk, "--port", str(_port()), key="k"))
    assert "not writable" in err
