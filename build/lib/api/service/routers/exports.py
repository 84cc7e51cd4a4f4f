"""Downloads of a project's latest run outputs (GeoPackage, CSV, Excel, HTML, PDF).

The gap report (``xlsx``, ``pdf``, ``report_html``) is generated on first request from the run
folder with :func:`maps.report_files.make_report` and cached in ``report-<fmt>/`` next to the run.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from api.service.deps import READ, ProjectDep, ServicesDep
from api.service.errors import ProblemError
from api.service.schemas import problems
from api.service.store import RUN_DIR
from planner.errors import PlannerError

router = APIRouter(prefix="/projects/{project_id}/exports", tags=["exports"])

ExportFormat = Literal["gpkg", "csv", "gaps_csv", "xlsx", "html", "report_html", "pdf", "json"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Format -> (candidate file names in the run folder, media type).
EXPORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "gpkg": (("careplan.gpkg",), "application/geopackage+sqlite3"),
    "csv": (("coverage.csv",), "text/csv"),
    "gaps_csv": (("gaps.csv",), "text/csv"),
    "xlsx": (("careplan.xlsx", "report.xlsx", "*.xlsx"), XLSX),
    "html": (("report.html", "care_map.html", "*.html"), "text/html"),
    "report_html": (("report.html",), "text/html"),
    "pdf": (("report.pdf",), "application/pdf"),
    "json": (("summary.json",), "application/json"),
}
#: Formats generated on request by the report code: format -> (make_report format, file name).
REPORTS: dict[str, tuple[str, str]] = {"xlsx": ("xlsx", "report.xlsx"),
                                       "report_html": ("html", "report.html"),
                                       "pdf": ("pdf", "report.pdf")}
_LOCK = threading.Lock()


def report_file(result_dir: Path, fmt: str, lang: str) -> Path:
    """The cached report file of a result, generated from its run folder on first use."""
    from maps.report_files import make_report

    kind, name = REPORTS[fmt]
    out = result_dir / f"report-{kind}-{lang}"
    with _LOCK:
        if not (out / name).is_file():
            run_dir = result_dir / RUN_DIR
            if not run_dir.is_dir():
                raise ProblemError(404, f"export {fmt} is not available yet: the result has no "
                                      "run folder to build the report from")
            try:
                make_report(run_dir, out, lang=lang, formats=(kind,))
            except (PlannerError, ImportError, OSError) as exc:
                raise ProblemError(501 if isinstance(exc, ImportError) else 500,
                                   f"export {fmt}: the report could not be generated "
                                   f"({type(exc).__name__}: {exc})") from None
    return out / name


@router.get("/{fmt}", response_class=FileResponse, dependencies=READ,
            responses={200: {"content": {"application/octet-stream": {}}},
                       **problems(401, 403, 404, 422, 500, 501)})
async def get_export(project: ProjectDep, services: ServicesDep, fmt: ExportFormat,
                     lang: Literal["zh", "en"] = Query("zh", description="report language")
                     ) -> FileResponse:
    """Download an output file of the project's latest coverage run (reports built on demand)."""
    result = services.latest_result(project["id"], "coverage")
    if result is None:
        raise ProblemError(404, f"export {fmt} is not available yet: project {project['id']} has "
                              "no finished coverage run")
    names, media = EXPORTS[fmt]
    path = None if fmt in ("report_html", "pdf") else \
        services.store.find_export(result["path"], names)
    if path is None and fmt in REPORTS:
        path = await run_in_threadpool(report_file, services.store.absolute(result["path"]),
                                       fmt, lang)
    if path is None:
        raise ProblemError(404, f"export {fmt} is not available yet: the run has no "
                              f"{' or '.join(names)}")
    return FileResponse(path, media_type=media, filename=f"{project['id']}_{path.name}")
