"""Downloads of a project's latest run outputs (GeoPackage, CSV, Excel, HTML)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import READ, ProjectDep, ServicesDep
from api.errors import ProblemError
from api.schemas import problems

router = APIRouter(prefix="/projects/{project_id}/exports", tags=["exports"])

ExportFormat = Literal["gpkg", "csv", "gaps_csv", "xlsx", "html", "json"]

#: Format -> (candidate file names in the run folder, media type).
EXPORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "gpkg": (("careplan.gpkg",), "application/geopackage+sqlite3"),
    "csv": (("coverage.csv",), "text/csv"),
    "gaps_csv": (("gaps.csv",), "text/csv"),
    "xlsx": (("careplan.xlsx", "report.xlsx", "*.xlsx"),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "html": (("report.html", "care_map.html", "*.html"), "text/html"),
    "json": (("summary.json",), "application/json"),
}


@router.get("/{fmt}", response_class=FileResponse, dependencies=READ,
            responses={200: {"content": {"application/octet-stream": {}}},
                       **problems(401, 403, 404, 422)})
def get_export(project: ProjectDep, services: ServicesDep, fmt: ExportFormat) -> FileResponse:
    """Download an output file of the project's latest coverage run."""
    result = services.latest_result(project["id"], "coverage")
    if result is None:
        raise ProblemError(404, f"export {fmt} is not available yet: project {project['id']} has "
                              "no finished coverage run")
    names, media = EXPORTS[fmt]
    path = services.store.find_export(result["path"], names)
    if path is None:
        raise ProblemError(404, f"export {fmt} is not available yet: the run has no "
                              f"{' or '.join(names)}")
    return FileResponse(path, media_type=media, filename=f"{project['id']}_{path.name}")
