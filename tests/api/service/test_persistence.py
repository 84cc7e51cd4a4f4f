"""Persistence: restart of a real uvicorn process, interrupted jobs, atomic result folders."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from shapely.geometry import Point

from api.service.db import INTERRUPTED, Database, jobs, now_iso, projects
from api.service.store import Store

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CAREPLAN_DATA_DIR": str(data_dir)}
    env.pop("CAREPLAN_API_KEY", None)
    env.pop("CAREPLAN_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.service.main:app", "--host", "127.0.0.1", "--port",
         str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("server did not start within 60 s")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_restart_keeps_project_and_fails_running_job(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, port)
    try:
        project = httpx.post(f"{base}/projects", json={"source": "demo"}, timeout=30).json()
        job = httpx.post(f"{base}/processes/coverage/execution",
                         json={"inputs": {"project": project["id"]}}, timeout=30).json()
        assert job["status"] == "accepted"
    finally:
        _kill(proc)
    proc = _start(tmp_path, port)
    try:
        again = httpx.get(f"{base}/projects/{project['id']}", timeout=10)
        assert again.status_code == 200 and again.json()["source"] == "demo"
        status = httpx.get(f"{base}/jobs/{job['jobID']}", timeout=10).json()
        assert status["status"] == "failed"
        assert status["message"] == INTERRUPTED
        assert not list((tmp_path / "results").iterdir())
    finally:
        _kill(proc)


def test_recover_interrupted_marks_active_jobs(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite'}")
    db.create_all()
    db.insert(projects, {"id": "p", "name": "p", "source": "demo", "created_at": now_iso()})
    for jid, status in (("a", "accepted"), ("r", "running"), ("s", "successful")):
        db.insert(jobs, {"id": jid, "project_id": "p", "process_id": "coverage", "inputs": "{}",
                         "cache_key": jid, "status": status, "progress": 0, "message": "",
                         "created_at": now_iso()})
    assert db.recover_interrupted() == 2
    assert db.get(jobs, "r")["message"] == INTERRUPTED  # type: ignore[index]
    assert db.get(jobs, "s")["status"] == "successful"  # type: ignore[index]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


def test_result_folder_is_atomic(tmp_path: Path) -> None:
    store = Store(tmp_path)
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(104, 30)], crs=4326)

    def broken(folder: Path) -> None:
        folder.mkdir()
        (folder / "half.csv").write_text("x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.write_result("r1", {"facilities": frame}, {}, broken)
    assert not list((tmp_path / "results").iterdir())
    rel = store.write_result("r2", {"facilities": frame}, {"n": 1}, None)
    assert len(store.read_layer(rel, "facilities")) == 1
    assert store.read_summary(rel) == {"n": 1}
    (tmp_path / "results" / ".r3.tmp").mkdir()
    store.sweep_temp()
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["r2"]


def test_old_database_gets_new_columns(tmp_path: Path) -> None:
    """A database made before jobs recorded their worker process gains the column at start."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE projects (id VARCHAR(40) PRIMARY KEY, name VARCHAR(200) NOT "
                     "NULL, source VARCHAR(16) NOT NULL, place TEXT, created_at VARCHAR(40) NOT "
                     "NULL)")
        conn.execute("CREATE TABLE jobs (id VARCHAR(40) PRIMARY KEY, project_id VARCHAR(40), "
                     "process_id VARCHAR(32) NOT NULL, inputs TEXT NOT NULL, cache_key "
                     "VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, progress INTEGER NOT "
                     "NULL, message TEXT NOT NULL, result_id VARCHAR(40), created_at VARCHAR(40) "
                     "NOT NULL, started_at VARCHAR(40), finished_at VARCHAR(40))")
        conn.execute("INSERT INTO jobs VALUES ('j', 'p', 'coverage', '{}', 'k', 'failed', 0, "
                     "'old', NULL, '2025-01-01', NULL, NULL)")
    db = Database(f"sqlite:///{path}")
    db.create_all()
    db.create_all()  # idempotent
    assert db.get(jobs, "j")["worker_pid"] is None  # type: ignore[index]
    db.update(jobs, "j", worker_pid=4242)
    assert db.get(jobs, "j")["worker_pid"] == 4242  # type: ignore[index]
    db.dispose()
