"""Liveness and readiness."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.service.deps import ServicesDep
from api.service.schemas import Health

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("careplan")
    except PackageNotFoundError:
        return "0+unknown"


@router.get("/health", response_model=Health)
def get_health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok", version=_version())


@router.get("/health/ready", response_model=Health, responses={503: {"model": Health}})
def get_readiness(services: ServicesDep) -> JSONResponse:
    """Readiness: the database answers and the data dir is writable."""
    checks = {}
    try:
        checks["database"] = "ok" if services.db.ping() else "no answer"
    except Exception as exc:  # any driver error means not ready
        checks["database"] = f"{type(exc).__name__}"
    probe = services.store.root / ".ready"
    try:
        probe.write_text("ok")
        probe.unlink()
        checks["data_dir"] = "ok"
    except OSError as exc:
        checks["data_dir"] = f"{type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = Health(status="ok" if ok else "unavailable", version=_version(), checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
