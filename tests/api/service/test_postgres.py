"""The same persistence code on PostgreSQL (throw-away server on a Unix socket; else skipped)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.service.db import INTERRUPTED, Database, jobs, now_iso, projects
from tests.api.conftest import KEY, MakeClient, assert_problem

PG_BIN = Path("/usr/lib/postgresql")


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(PG_BIN.glob(f"*/bin/{name}"))
    return str(hits[-1]) if hits else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL cluster listening only on a Unix socket."""
    pytest.importorskip("psycopg", reason="psycopg (PostgreSQL driver) is not installed")
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
    base = Path(tempfile.mkdtemp(prefix="careplan-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    try:
        subprocess.run(_as_postgres([initdb, "-D", str(data), "-U", "postgres", "-A", "trust"]),
                       check=True, capture_output=True, timeout=60)
        opts = f"-k {sock} -c listen_addresses='' -p 54329"
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-o", opts, "-w", "-l",
                                     str(base / "log"), "start"]),
                       check=True, capture_output=True, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL server: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port=54329"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_database_on_postgres(pg_url: str) -> None:
    db = Database(pg_url)
    db.create_all()
    db.insert(projects, {"id": "pg1", "name": "p", "source": "demo", "created_at": now_iso()})
    db.insert(jobs, {"id": "j1", "project_id": "pg1", "process_id": "coverage", "inputs": "{}",
                     "cache_key": "k", "status": "running", "progress": 5, "message": "",
                     "created_at": now_iso()})
    assert db.recover_interrupted() == 1
    assert db.get(jobs, "j1")["message"] == INTERRUPTED  # type: ignore[index]
    db.delete_project("pg1")
    assert db.get(projects, "pg1") is None
    db.dispose()


def test_api_on_postgres(pg_url: str, make_client: MakeClient) -> None:
    client: TestClient = make_client(database_url=pg_url)
    created = client.post("/projects", json={"source": "demo", "name": "pg"}, headers=KEY)
    assert created.status_code == 201
    pid = created.json()["id"]
    assert client.get(f"/projects/{pid}").json()["name"] == "pg"
    assert client.get("/health/ready").json()["checks"]["database"] == "ok"
    assert client.delete(f"/projects/{pid}", headers=KEY).status_code == 204
    assert_problem(client.get(f"/projects/{pid}"), 404)
