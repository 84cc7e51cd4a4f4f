"""The one table mapping planner errors to HTTP status, and RFC 9457 problem+json handlers."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.errors import (
    InputDataError,
    NetworkError,
    PlannerError,
    SitingError,
    SourceUnavailableError,
)

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: PlannerError subclass -> (HTTP status, title). The most specific class in the MRO wins.
PLANNER_ERROR_STATUS: dict[type[PlannerError], tuple[int, str]] = {
    InputDataError: (422, "Invalid input data"),
    NetworkError: (422, "Unusable walking network"),
    SitingError: (409, "Siting problem cannot be solved"),
    SourceUnavailableError: (503, "Data source unavailable"),
    PlannerError: (500, "Planner error"),
}

_TITLES = {400: "Bad request", 401: "Missing API key", 403: "Invalid API key", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Upload too large",
           415: "Unsupported media type", 422: "Invalid request", 429: "Job queue full",
           500: "Internal server error", 501: "Not implemented", 503: "Service unavailable",
           504: "Request timeout", 507: "Insufficient storage"}
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


class ProblemError(Exception):
    """An HTTP problem raised by the API layer itself (not by the planner)."""

    def __init__(self, status: int, detail: str, *, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra


def status_for(exc: PlannerError) -> tuple[int, str]:
    """HTTP status and title for a planner error, from :data:`PLANNER_ERROR_STATUS`."""
    for cls in type(exc).__mro__:
        if cls in PLANNER_ERROR_STATUS:
            return PLANNER_ERROR_STATUS[cls]
    return 500, "Planner error"


def problem_response(status: int, detail: str, *, title: str | None = None, instance: str = "",
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """Build an RFC 9457 ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title or _TITLES.get(status, "Error"),
                            "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def _planner_error(request: Request, exc: PlannerError) -> JSONResponse:
    status, title = status_for(exc)
    if status >= 500:
        logger.error("planner error on %s: %s", request.url.path, exc)
    return problem_response(status, str(exc), title=title, instance=request.url.path,
                            error=type(exc).__name__)


async def _api_problem(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(exc.status, exc.detail, title=exc.title, instance=request.url.path,
                            headers=exc.headers, **exc.extra)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path}; see /docs for the endpoints"
    return problem_response(exc.status_code, detail, instance=request.url.path,
                            headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"loc": list(map(str, e.get("loc", ()))), "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in exc.errors()]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
    return problem_response(422, detail, instance=request.url.path, errors=errors)


def classify_error(exc: BaseException) -> tuple[int, str, str]:
    """Status, title and a one-line detail (no server paths) for an unexpected error.

    A full disk is 507, a database that does not answer (or refuses writes) and a data dir that
    cannot be written are 503; anything else is 500.
    """
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return 507, _TITLES[507], ("the server's disk is full; nothing was stored. Free space in "
                                   "the data directory or raise its quota, then retry")
    if isinstance(exc, SQLAlchemyError):
        return 503, "Database unavailable", (f"the database did not answer "
                                             f"({type(exc).__name__}); retry later")
    if isinstance(exc, OSError) and exc.errno in _NOT_WRITABLE:
        return 503, _TITLES[503], ("the data directory cannot be written (read-only or no "
                                   "permission); retry when the operator has fixed it")
    return 500, _TITLES[500], f"unexpected {type(exc).__name__}; see the server log"


def job_error_message(exc: BaseException) -> str:
    """A failed job's message for an unexpected error (no paths, no internals)."""
    status, _title, detail = classify_error(exc)
    return detail if status != 500 else f"unexpected {type(exc).__name__}; see the server log"


async def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    status, title, detail = classify_error(exc)
    logger.error("%s on %s: %s", title, request.url.path, type(exc).__name__,
                 exc_info=status == 500)
    headers = {"Retry-After": "30"} if status == 503 else None
    return problem_response(status, detail, title=title, instance=request.url.path,
                            headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json exception handlers on ``app``."""
    app.add_exception_handler(PlannerError, _planner_error)  # type: ignore[arg-type]
    app.add_exception_handler(ProblemError, _api_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(OSError, _storage_error)
    app.add_exception_handler(SQLAlchemyError, _storage_error)
