"""Annotated dependencies: service parts, the project lookup (404 lives here), and every access
check (API key, write media types) in one place, so further key schemes plug in here."""

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


#: Media types a write may carry. A web page can send text/plain (or a urlencoded form) to any
#: site without a CORS preflight; refusing those stops cross-site writes on an open server.
WRITE_MEDIA_TYPES = ("application/json", "multipart/form-data")
_BODY_METHODS = ("POST", "PUT", "PATCH")


def check_write_media_type(request: Request) -> None:
    """415 problem when a write's body is neither JSON nor multipart form data."""
    if request.method not in _BODY_METHODS:
        return
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not given and request.headers.get("content-length", "0") == "0" \
            and "transfer-encoding" not in request.headers:
        return  # no body at all
    if given not in WRITE_MEDIA_TYPES:
        raise ProblemError(415, f"content type {given or '(none)'!r} is not accepted for writes; "
                                f"send {' or '.join(WRITE_MEDIA_TYPES)}")


def has_write_access(settings: ApiSettings, given: str | None) -> bool:
    """Whether a request with key ``given`` may write (always, when no key is configured)."""
    try:
        _check_key(settings, given)
    except ProblemError:
        return False
    return True


def require_write(request: Request, settings: SettingsDep,
                  key: Annotated[str | None, Security(api_key_header)] = None) -> None:
    """Writes need the API key whenever one is configured, and a JSON or multipart body."""
    _check_key(settings, key)
    check_write_media_type(request)


def require_read(settings: SettingsDep,
                 key: Annotated[str | None, Security(api_key_header)] = None) -> None:
    """Reads need the API key only when CAREPLAN_PUBLIC_READ is false."""
    if not settings.public_read:
        _check_key(settings, key)


def require_admin(settings: SettingsDep,
                  key: Annotated[str | None, Security(api_key_header)] = None) -> str:
    """The admin key (CAREPLAN_API_KEY) and nothing else; never open, even without a key set."""
    if not settings.api_key:
        raise ProblemError(403, "this endpoint needs CAREPLAN_API_KEY to be set on the server")
    _check_key(settings, key)
    return "admin"


def require_personal(settings: SettingsDep,
                     key: Annotated[str | None, Security(api_key_header)] = None) -> str:
    """Who may read personal records: the admin or a named organisation (CAREPLAN_ORG_KEYS).

    Returns the caller's name for the audit table; 401 without a key, 403 with a wrong one.
    """
    if not key:
        raise ProblemError(401, "personal records need an organisation key (CAREPLAN_ORG_KEYS) "
                                "in the X-API-Key header", headers={"WWW-Authenticate": "X-API-Key"})
    given = key.encode("utf-8")
    for org_key, name in settings.org_key_map.items():
        if secrets.compare_digest(given, org_key.encode("utf-8")):
            return f"org:{name}"
    if settings.api_key and secrets.compare_digest(given, settings.api_key.encode("utf-8")):
        return "admin"
    raise ProblemError(403, "the X-API-Key header is not an organisation key of CAREPLAN_ORG_KEYS")


AdminDep = Annotated[str, Depends(require_admin)]
PersonalDep = Annotated[str, Depends(require_personal)]


def get_project(services: ServicesDep,
                project_id: Annotated[str, Path(min_length=1, max_length=40)]) -> dict[str, Any]:
    """The project named in the path, or a 404 problem."""
    return services.project(project_id)


ProjectDep = Annotated[dict[str, Any], Depends(get_project)]
WriterKey = Annotated[str | None, Security(api_key_header)]
READ = [Depends(require_read)]
WRITE = [Depends(require_write)]
