"""Issue 13 item 4: cancelling a RUNNING job. Each job runs in a child process of its own process
group; ``DELETE /jobs/{id}`` stops it within seconds (SIGTERM, SIGKILL after
``children.GRACE_S``), leaves no files, and the next job runs; a server killed with SIGKILL takes
its job children with it (their lifeline pipe closes). Real runs on the Chengdu extract."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.service.children import GRACE_S, Child, start_child
from api.service.db import Database, jobs
from api.service.store import Store
from api.service.worker import JobSpec
from tests.api.conftest import KEY, SHARED_OSM, MakeClient, assert_problem, wait_job

ROOT = Path(__file__).resolve().parents[3]
CHENGDU = SHARED_OSM / "chengdu_center_2018.osm"
REGISTER = ("名称,类型,经度,纬度\n锦江日照,day_care,104.065,30.66\n春熙助餐点,meal_point,104.078,"
            "30.657\n东门站,service_station,104.085,30.667\n").encode()
pytestmark = pytest.mark.skipif(not CHENGDU.is_file(), reason=f"{CHENGDU} is absent")


def process_gone(pid: int) -> bool:
    """Neither the process nor any member of its process group is alive (zombies, which the
    container's init may never reap, count as gone): read from ``/proc``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
        if (int(stat.parent.name) == pid or int(fields[2]) == pid) and fields[0] != "Z":
            return False
    return True


def wait_gone(pid: int, timeout_s: float) -> float:
    """Seconds until ``pid`` and its group are gone; fails after ``timeout_s``."""
    started = time.monotonic()
    while not process_gone(pid):
        assert time.monotonic() - started < timeout_s, f"worker {pid} still alive"
        time.sleep(0.02)
    return time.monotonic() - started


def _running(get: Any, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """Poll until the job runs past reading its inputs (its child is computing)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = get(f"/jobs/{job_id}").json()
        assert job["status"] in ("accepted", "running"), job
        if job["status"] == "running" and job["progress"] >= 5:
            return dict(job)
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not start in {timeout_s} s")


def _chengdu_project(client: TestClient) -> str:
    made = client.post("/projects", files={"osm": ("chengdu.osm", CHENGDU.read_bytes())},
                       headers=KEY)
    assert made.status_code == 201, made.text
    project = str(made.json()["id"])
    up = client.post(f"/projects/{project}/uploads", data={"kind": "facilities"},
                     files={"file": ("登记表.csv", REGISTER)}, headers=KEY)
    assert up.status_code == 201, up.text
    return project


def test_dismissing_a_running_job_stops_its_worker(make_client: MakeClient) -> None:
    client = make_client()
    services = client.app.state.services  # type: ignore[attr-defined]
    project = _chengdu_project(client)
    started = client.post("/processes/coverage/execution", json={"inputs": {"project": project}},
                          headers=KEY)
    job_id = started.json()["jobID"]
    _running(client.get, job_id)
    pid = services.db.get(jobs, job_id)["worker_pid"]
    assert pid and pid != os.getpid() and not process_gone(pid)
    assert services.runner.worker_pid(job_id) == pid
    gone = client.delete(f"/jobs/{job_id}", headers=KEY)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "dismissed"
    wait_gone(pid, GRACE_S + 1)  # SIGTERM ends it at once; SIGKILL follows after GRACE_S
    deadline = time.monotonic() + 10
    while services.runner.active and time.monotonic() < deadline:
        time.sleep(0.05)
    job = client.get(f"/jobs/{job_id}").json()
    assert (job["status"], job["message"]) == ("dismissed", "dismissed by request")
    assert not list((services.store.root / "results").iterdir())  # no result, no temp folder
    again = client.post("/processes/coverage/execution", json={"inputs": {"project": project}},
                        headers=KEY)
    assert again.json()["jobID"] != job_id  # the dismissed job is not reused
    done = wait_job(client, again.json()["jobID"], timeout_s=180)
    assert done["status"] == "successful", done
    assert len(list((services.store.root / "results").iterdir())) == 1
    assert_problem(client.delete("/jobs/nope", headers=KEY), 404)
    assert_problem(client.delete(f"/jobs/{job_id}"), 401)


def test_dismissing_a_queued_job_never_starts_it(make_client: MakeClient) -> None:
    client = make_client(job_workers=1)
    services = client.app.state.services  # type: ignore[attr-defined]
    project = _chengdu_project(client)
    first = client.post("/processes/coverage/execution", json={"inputs": {"project": project}},
                        headers=KEY).json()["jobID"]
    queued = client.post("/processes/coverage/execution",
                         json={"inputs": {"project": project, "target_share": 0.6}},
                         headers=KEY).json()["jobID"]
    assert client.delete(f"/jobs/{queued}", headers=KEY).json()["status"] == "dismissed"
    assert wait_job(client, first, timeout_s=180)["status"] == "successful"
    row = services.db.get(jobs, queued)
    assert row["status"] == "dismissed" and row["worker_pid"] is None
    assert client.delete(f"/jobs/{first}", headers=KEY).status_code == 409


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_killed_takes_its_job_workers_along(tmp_path: Path) -> None:
    """kill -9 of the server: its running job's child (and group) exits by itself."""
    port = _port()
    env = {**os.environ, "CAREPLAN_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CAREPLAN_API_KEY", None)
    env.pop("CAREPLAN_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "api.service", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with CHENGDU.open("rb") as handle:
            project = httpx.post(f"{base}/projects", files={"osm": ("chengdu.osm", handle)},
                                 timeout=60).json()["id"]
        job_id = httpx.post(f"{base}/processes/coverage/execution",
                            json={"inputs": {"project": project}}, timeout=30).json()["jobID"]
        with httpx.Client(base_url=base, timeout=10) as http:
            _running(http.get, job_id)
        db = Database(f"sqlite:///{tmp_path / 'careplan.sqlite'}")
        pid = db.get(jobs, job_id)["worker_pid"]  # type: ignore[index]
        db.dispose()
        assert pid and not process_gone(pid)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    wait_gone(pid, 10)


def _blocked_child(tmp_path: Path) -> Child:
    """A real coverage job's child whose facility register is a FIFO nobody writes: it blocks
    while checking its inputs and reports nothing more (as a long stage without progress)."""
    store = Store(tmp_path)
    fifo = tmp_path / "projects" / "p" / "uploads" / "u.csv"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    upload = {"kind": "facilities", "path": store.relative(fifo), "detected": "csv",
              "filename": "登记表.csv", "created_at": "2026-01-01", "sha256": "0",
              "coords": "wgs84"}
    spec = JobSpec(job_id="blocked", process_id="coverage", inputs={"project": "p"},
                   project={"id": "p", "name": "p", "source": "demo"}, uploads=[upload],
                   data_dir=str(store.root))
    child = start_child(spec, str(store.temp_result("r")), str(store.temp_result("r", ".work")))
    assert child.receive(60) == ("progress", 5, "inputs")
    assert child.receive(1.0) is None and not process_gone(child.pid)
    return child


def test_worker_dies_with_its_lifeline(tmp_path: Path) -> None:
    """The server's end of the lifeline closes (as when it is killed): the child, blocked with
    no progress to send, kills its process group within a second."""
    child = _blocked_child(tmp_path)
    try:
        child.lifeline.close()
        wait_gone(child.pid, 2)
    finally:
        child.stop()


def test_stop_is_quick_even_when_blocked(tmp_path: Path) -> None:
    child = _blocked_child(tmp_path)
    took_s = child.stop()
    assert process_gone(child.pid) and took_s < GRACE_S
