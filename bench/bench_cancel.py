"""Bench: cancelling a running coverage job of a real ``python -m api.service`` process, and what
running each job in a child process costs in time and memory.

On the Chengdu extract (OSM XML and a facility register, as a user uploads them):

* a job run to the end: wall time from POST to ``successful`` against the peer, the same
  computation in this process (load, run_plan, write the result folder) without a child;
* ``--repeat`` jobs DELETEd while computing: seconds from the DELETE to the worker process (and
  its group) being gone, read from ``/proc``; best, median and worst;
* memory (RSS from ``/proc``): the server before and after the jobs and after it has loaded the
  plan for a read, the forkserver, and each job child's peak (VmHWM).

Prints the figures and the load average, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import free_port, start_service  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT.parent / "shared" / "data" / "osm" / "chengdu_center_2018.osm"
REGISTER = ("名称,类型,经度,纬度\n锦江日照,day_care,104.065,30.66\n春熙助餐点,meal_point,104.078,"
            "30.657\n东门站,service_station,104.085,30.667\n")
KEY = {"X-API-Key": "bench"}



def _status(pid: int) -> dict[str, str]:
    """Fields of /proc/<pid>/status ({} when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _mb(pid: int, field: str = "VmRSS") -> float:
    value = _status(pid).get(field, "0 kB").split()[0]
    return int(value) / 1024


def _pss_mb(pid: int) -> float:
    """Proportional set size: the child's own pages plus its share of the forkserver's."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _alive(pid: int) -> bool:
    """The process or a member of its group is alive (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if (int(stat.parent.name) == pid or int(fields[2]) == pid) and fields[0] != "Z":
            return True
    return False


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _job_pid(data: Path, job_id: str) -> int | None:
    import sqlite3

    with sqlite3.connect(data / "careplan.sqlite") as conn:
        row = conn.execute("SELECT worker_pid FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return int(row[0]) if row and row[0] else None


def _run_job(http: httpx.Client, data: Path, project: str, share: float,
             cancel_at: int | None) -> dict[str, Any]:
    """Start a coverage job; follow it to the end, or DELETE it once its progress reaches
    ``cancel_at`` (5 inputs, 10 network, 25 snapping, 40 travel, 65 coverage, 80 catchments,
    90 writing)."""
    t0 = time.perf_counter()
    job = http.post("/processes/coverage/execution", headers=KEY, json={
        "inputs": {"project": project, "target_share": share}}).json()["jobID"]
    pid, peak, pss = None, 0.0, 0.0
    while True:
        status = http.get(f"/jobs/{job}").json()
        pid = pid or _job_pid(data, job)
        if pid:
            peak, pss = max(peak, _mb(pid, "VmHWM")), max(pss, _pss_mb(pid))
        if status["status"] in ("successful", "failed"):
            return {"wall_s": time.perf_counter() - t0, "status": status["status"],
                    "child_peak_mb": peak, "child_pss_mb": pss}
        if cancel_at is not None and pid and status["status"] == "running" \
                and status["progress"] >= cancel_at:
            sent = time.perf_counter()
            answer = http.delete(f"/jobs/{job}", headers=KEY).json()["status"]
            while _alive(pid):
                time.sleep(0.005)
            return {"gone_s": time.perf_counter() - sent, "status": answer,
                    "at_progress": status["progress"], "child_peak_mb": peak}
        time.sleep(0.02)


def _in_process(data: Path, project: dict[str, Any]) -> float:
    """The peer: the same job's work in this process, no child (best of one)."""
    from api.service.db import Database, uploads
    from api.service.execution import run_coverage
    from api.service.inputs import CoverageInputs
    from api.service.store import Store

    db = Database(f"sqlite:///{data / 'careplan.sqlite'}")
    rows = db.list(uploads, project_id=project["id"])
    db.dispose()
    store = Store(data)
    t0 = time.perf_counter()
    outcome = run_coverage(CoverageInputs.model_validate({"project": project["id"]}), project,
                           rows, store, lambda _p, _s: None)
    with tempfile.TemporaryDirectory(dir=data / "cache") as folder:
        store.write_result_folder(Path(folder) / "r", outcome.frames, outcome.summary,
                                  outcome.run_writer, plan=outcome.plan)
    return time.perf_counter() - t0


def main() -> int:
    """Run the bench; print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--osm", type=Path, default=OSM)
    parser.add_argument("--repeat", type=int, default=10, help="jobs to cancel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, port = Path(tmp) / "data", free_port()
        server = start_service(data, port)
        try:
            figures = _measure(server.pid, data, port, args)
        finally:
            server.terminate()
            server.wait(30)
    figures["loadavg"] = os.getloadavg()[0]
    print(f"load average (1 min): {figures['loadavg']:.2f} on {os.cpu_count()} cores")
    print(json.dumps(figures))
    return 0


def _measure(server: int, data: Path, port: int, args: argparse.Namespace) -> dict[str, Any]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        with args.osm.open("rb") as handle:
            project = http.post("/projects", headers=KEY,
                                files={"osm": (args.osm.name, handle)}).json()
        http.post(f"/projects/{project['id']}/uploads", headers=KEY, data={"kind": "facilities"},
                  files={"file": ("登记表.csv", REGISTER.encode())})
        time.sleep(5)  # the forkserver warms up in the background
        rss_idle = _mb(server)
        forkserver = max(_children(server), key=_mb, default=0)
        full = [_run_job(http, data, project["id"], 0.5 + i / 100, None) for i in range(2)]
        targets = [(5, 10, 25, 65, 90)[i % 5] for i in range(args.repeat)]
        runs = [_run_job(http, data, project["id"], 0.7 + i / 100, at)
                for i, at in enumerate(targets)]
        cancelled = [r for r in runs if "gone_s" in r]  # the others ended first
        after = _run_job(http, data, project["id"], 0.6, None)
        rss_jobs = _mb(server)
        http.get(f"/projects/{project['id']}/map")  # the server loads the plan for a read
        rss_plan = _mb(server)
        peer = _in_process(data, project)
    gone = sorted(c["gone_s"] for c in cancelled)
    wall = min(f["wall_s"] for f in full)
    figures = {
        "job_wall_s_best": round(wall, 3), "in_process_s": round(peer, 3),
        "job_over_in_process": round(wall / peer, 3),
        "cancel_gone_s_best": round(gone[0], 3),
        "cancel_gone_s_median": round(statistics.median(gone), 3),
        "cancel_gone_s_worst": round(gone[-1], 3),
        "cancelled_at_progress": [c["at_progress"] for c in cancelled],
        "all_dismissed": all(c["status"] == "dismissed" for c in cancelled),
        "next_job": after["status"],
        "server_rss_mb_idle": round(rss_idle, 1), "server_rss_mb_after_jobs": round(rss_jobs, 1),
        "server_rss_mb_plan_loaded": round(rss_plan, 1),
        "forkserver_rss_mb": round(_mb(forkserver), 1) if forkserver else None,
        "child_peak_mb": round(max(f["child_peak_mb"] for f in full), 1),
        "child_pss_mb": round(max(f["child_pss_mb"] for f in full), 1)}
    print(f"job to the end: {wall:.2f} s in a child vs {peer:.2f} s in process "
          f"(ratio {wall / peer:.2f})")
    print(f"DELETE -> worker gone: best {gone[0]:.3f} s, median {statistics.median(gone):.3f} s,"
          f" worst {gone[-1]:.3f} s over {len(gone)} jobs; next job {after['status']}")
    print(f"server RSS: {rss_idle:.0f} MB idle, {rss_jobs:.0f} MB after "
          f"{len(full) + len(cancelled) + 1} jobs, {rss_plan:.0f} MB with the plan loaded; "
          f"child peak {figures['child_peak_mb']} MB RSS, {figures['child_pss_mb']} MB PSS "
          f"(forkserver {figures['forkserver_rss_mb']} MB, shared copy-on-write)")
    return figures


if __name__ == "__main__":
    sys.exit(main())
