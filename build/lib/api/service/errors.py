"""The one table mapping planner errors to HTTP status, and RFC 9457 problem+json handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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
           415: "Unsupported file type", 422: "Invalid request", 429: "Job queue full",
           500: "Internal server error", 501: "Not implemented", 503: "Service unavailable",
           504: "Request timeout"}


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


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s", request.url.path)
    return problem_response(500, f"unexpected {type(exc).__name__}; see the server log",
                            instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json exception handlers on ``app``."""
    app.add_exception_handler(PlannerError, _planner_error)  # type: ignore[arg-type]
    app.add_exception_handler(ProblemError, _api_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
