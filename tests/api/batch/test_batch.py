"""`careplan batch` against one `careplan analyze` of the whole area, on real Dask clusters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from api.cli.main import main
from tests.api.batch.conftest import CHENGDU
from tests.api.batch.helpers import assert_equal_to_whole

ROOT = Path(__file__).resolve().parents[3]
HORIZON_MIN = 30.0  # the national profile's largest threshold: the default horizon


def _status(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "batch_status.csv", dtype={"region": str}, encoding="utf-8-sig")


def test_chengdu_quadrants_equal_one_run_and_resume_runs_nothing(
        chengdu_quadrants: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole, out = tmp_path / "whole", tmp_path / "batch"
    assert main(["analyze", "--osm", str(CHENGDU), "--out", str(whole), "--no-cache"]) == 0
    args = ["batch", "--osm", str(CHENGDU), "--regions", str(chengdu_quadrants),
            "--out", str(out), "--workers", "2", "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "LocalCluster: 2 workers x" in text and "dashboard" in text
    status = _status(out)
    assert status["status"].eq("ok").all() and len(status) == 4
    assert (status["peak_memory_mb"] > 0).all() and (status["seconds"] > 0).all()
    assert assert_equal_to_whole(whole, out, HORIZON_MIN) == 186 * 6
    assert (out / "careplan.gpkg").is_file() and (out / "indicators.csv").is_file()
    for quadrant in status["region"]:
        assert (out / "regions" / quadrant / "coverage.csv").is_file()
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["complete"] and summary["ran"] == 4 and summary["halo"]["halo_m"] == 1884.0
    # second run with --resume: every region complete and unchanged -> nothing runs, no cluster
    assert main([*args, "--resume"]) == 0
    text = capsys.readouterr().out
    assert "4 complete and unchanged" in text and "LocalCluster" not in text
    again = json.loads((out / "summary.json").read_text("utf-8"))
    assert again["ran"] == 0 and again["skipped"] == 4 and again["cluster"]["cluster"].startswith("none")
    assert_equal_to_whole(whole, out, HORIZON_MIN)


def _scheduler_address(info: Path, scheduler: subprocess.Popen[bytes]) -> str:
    """The address a starting scheduler writes to its scheduler file (waits up to 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return str(json.loads(info.read_text("utf-8"))["address"])
        except (OSError, ValueError, KeyError):  # not written yet, or half-written
            if scheduler.poll() is not None or time.monotonic() > deadline:
                scheduler.kill()
                pytest.fail("the dask scheduler did not start (no scheduler file within 60 s)")
            time.sleep(0.1)


def _start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.fixture()
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A real `dask scheduler` and two `dask worker` processes (no nanny) on 127.0.0.1.

    The scheduler picks its own port and writes its address to a scheduler file (a port chosen
    here beforehand could be taken by another test's server before the scheduler binds it)."""
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    info = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [_start([*dask, "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info),
                     "--dashboard-address", ":0"], env)]
    address = _scheduler_address(info, procs[0])
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
              "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"]
    procs += [_start(worker, env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="10s") as client:
                    client.wait_for_workers(2, timeout=30)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield address, procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _kill_first_busy_worker(address: str, workers: list[subprocess.Popen[bytes]],
                            done: threading.Event) -> dict[str, object]:
    """Wait until a worker is running a region, then kill that worker's process."""
    from distributed import Client

    killed: dict[str, object] = {}
    with Client(address, timeout="5s") as client:
        pids = client.run(os.getpid)
        while not done.is_set():
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                victim = next(p for p in workers if p.pid == pids[busy[0]])
                victim.kill()
                killed["pid"] = victim.pid
                return killed
            time.sleep(0.02)
    return killed


def test_scheduler_and_workers_killed_worker_and_broken_region(
        dask_cluster: tuple[str, list[subprocess.Popen[bytes]]],
        synthetic_files: tuple, tmp_path: Path) -> None:
    address, procs = dask_cluster
    files, _, regions_broken = synthetic_files
    whole, out = tmp_path / "whole", tmp_path / "batch"
    inputs = ["--osm", str(files.osm), "--units", str(files.units),
              "--facilities", str(files.facilities)]
    assert main(["analyze", *inputs, "--out", str(whole), "--no-cache"]) == 0
    done = threading.Event()
    result: dict[str, int] = {}

    def run() -> None:
        result["code"] = main(["batch", *inputs, "--regions", str(regions_broken), "--out", str(out),
                               "--scheduler", address, "--no-progress", "--retries", "1"])
        done.set()

    runner = threading.Thread(target=run)
    runner.start()
    killed = _kill_first_busy_worker(address, procs[1:], done)
    runner.join(timeout=120)
    assert killed, "no worker was busy before the run ended"
    assert result["code"] == 1  # one region failed
    status = _status(out).set_index("region")
    assert status.loc["BROKEN", "status"] == "failed"
    assert "no walkable street" in status.loc["BROKEN", "error"]
    assert "\n" not in status.loc["BROKEN", "error"]
    others = status.drop(index="BROKEN")
    assert len(others) == 7 and others["status"].eq("ok").all()
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert list(summary["missing_regions"]) == ["BROKEN"] and not summary["complete"]
    assert summary["cluster"]["scheduler"] == address
    assert_equal_to_whole(whole, out, HORIZON_MIN)
    pd.testing.assert_frame_equal(pd.read_csv(out / "indicators.csv"),
                                  pd.read_csv(whole / "indicators.csv"))
    ids = {"unit_id": str, "parent_id": str}  # community -> street/town -> district roll-up
    rollups = [pd.read_csv(d / "coverage_rollup.csv", dtype=ids).sort_values(
        ["unit_id", "facility_type"]).reset_index(drop=True) for d in (out, whole)]
    pd.testing.assert_frame_equal(*rollups, check_exact=False, rtol=1e-9)
