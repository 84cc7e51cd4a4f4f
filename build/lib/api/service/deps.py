"""Annotated dependencies: service parts, the project lookup (404 lives here), API-key checks."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader

from api.service.errors import ProblemError
from api.service.parts import Services
from api.service.settings import ApiSettings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="Needed for writes when CAREPLAN_API_KEY is set")


def get_services(request: Request) -> Services:
    """The Services built by the app's lifespan."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_app_settings(services: ServicesDep) -> ApiSettings:
    """The settings the app was started with."""
    return services.settings


SettingsDep = Annotated[ApiSettings, Depends(get_app_settings)]


def _check_key(settings: ApiSettings, given: str | None) -> None:
    expected = settings.api_key
    if not expected:
        return
    if not given:
        raise ProblemError(401, "this endpoint needs an API key in the X-API-Key header",
                         headers={"WWW-Authenticate": "X-API-Key"})
    if not secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise ProblemError(403, "the X-API-Key header does not match CAREPLAN_API_KEY")


def require_write(settings: SettingsDep,
                  key: Annotated[str | None, Security(api_key_header)] = None) -> None:
    """Writes need the API key whenever one is configured."""
    _check_key(settings, key)


def require_read(settings: SettingsDep,
                 key: Annotated[str | None, Security(api_key_header)] = None) -> None:
    """Reads need the API key only when CAREPLAN_PUBLIC_READ is false."""
    if not settings.public_read:
        _check_key(settings, key)


def get_project(services: ServicesDep,
                project_id: Annotated[str, Path(min_length=1, max_length=40)]) -> dict[str, Any]:
    """The project named in the path, or a 404 problem."""
    return services.project(project_id)


ProjectDep = Annotated[dict[str, Any], Depends(get_project)]
READ = [Depends(require_read)]
WRITE = [Depends(require_write)]
