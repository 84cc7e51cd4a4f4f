"""Pydantic request and response models of the REST service (OGC API Processes/Features shapes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.service.errors import PROBLEM_MEDIA_TYPE


class Link(BaseModel):
    """A hypermedia link."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


class ProjectCreate(BaseModel):
    """Create a project from the demo district, a file in the data dir, or a place name.

    Uploading an OSM file instead: send ``multipart/form-data`` with an ``osm`` file part.
    """

    model_config = ConfigDict(extra="forbid")

    source: Literal["demo", "file", "place"]
    name: str | None = Field(None, min_length=1, max_length=200)
    file: str | None = Field(None, min_length=1, max_length=500,
                             description="OSM file path relative to CAREPLAN_DATA_DIR")
    place: str | None = Field(None, min_length=1, max_length=300,
                              description="Place name to download (needs internet)")


class Upload(BaseModel):
    """A stored input file of a project."""

    id: str
    kind: Literal["osm", "facilities", "units"]
    filename: str
    detected: str
    sha256: str
    size_bytes: int
    coords: str
    created_at: str


class Project(BaseModel):
    """A study area with its input files."""

    id: str
    name: str
    source: str
    place: str | None = None
    created_at: str
    uploads: list[Upload] = []
    links: list[Link] = []


class ProjectList(BaseModel):
    """Projects, newest first."""

    projects: list[Project]
    numberReturned: int  # noqa: N815 (OGC field name)


class Scenario(BaseModel):
    """A named siting or what-if request."""

    id: str
    name: str
    process_id: str
    inputs: dict[str, Any]
    job_id: str | None = None
    created_at: str


class ScenarioList(BaseModel):
    """Scenarios of a project."""

    scenarios: list[Scenario]


class ProcessSummary(BaseModel):
    """OGC API Processes process summary."""

    id: str
    title: str
    description: str
    version: str = "1.0.0"
    jobControlOptions: list[str] = ["async-execute"]  # noqa: N815
    available: bool = True
    missing: str | None = None
    links: list[Link] = []


class ProcessDescription(ProcessSummary):
    """A process summary plus the JSON Schema of its inputs."""

    inputs: dict[str, Any]


class ProcessList(BaseModel):
    """All processes."""

    processes: list[ProcessSummary]
    links: list[Link] = []


class Execute(BaseModel):
    """OGC execute request: ``{"inputs": {"project": "<id>", ...}}``."""

    inputs: dict[str, Any] = Field(examples=[{"project": "demo"}])


class StatusInfo(BaseModel):
    """OGC API Processes job status."""

    jobID: str  # noqa: N815
    processID: str  # noqa: N815
    projectID: str  # noqa: N815
    type: Literal["process"] = "process"
    status: Literal["accepted", "running", "successful", "failed", "dismissed"]
    message: str = ""
    progress: int = 0
    created: str
    started: str | None = None
    finished: str | None = None
    reused: bool = False
    links: list[Link] = []


class JobList(BaseModel):
    """Jobs, newest first."""

    jobs: list[StatusInfo]
    links: list[Link] = []


class JobResults(BaseModel):
    """A finished job's summary and where to get its layers and files."""

    jobID: str  # noqa: N815
    resultID: str  # noqa: N815
    processID: str  # noqa: N815
    summary: dict[str, Any]
    links: list[Link] = []


class CollectionInfo(BaseModel):
    """OGC API Features collection metadata."""

    id: str
    title: str
    description: str
    itemType: str = "feature"  # noqa: N815
    crs: list[str] = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    links: list[Link] = []


class Collections(BaseModel):
    """The collections of a project."""

    collections: list[CollectionInfo]
    links: list[Link] = []


class Health(BaseModel):
    """Liveness / readiness."""

    status: Literal["ok", "unavailable"]
    version: str
    checks: dict[str, str] = {}


PROBLEM_RESPONSE: dict[str, Any] = {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json for ``codes``."""
    return {code: {**PROBLEM_RESPONSE, "description": "Problem"} for code in codes}
