"""create_app(): routers, exception handlers, lifespan, limits; ``app = create_app()``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.service.children import warm_up
from api.service.db import Database
from api.service.errors import install_error_handlers
from api.service.execution import PlanCache
from api.service.jobs import JobRunner
from api.service.limits import (
    BodyLimitMiddleware,
    ErrorBoundaryMiddleware,
    SecurityHeadersMiddleware,
    TimeoutMiddleware,
)
from api.service.parts import Services
from api.service.routers import (
    catchments,
    collections,
    exports,
    finder,
    health,
    jobs,
    maps,
    needs,
    processes,
    projects,
)
from api.service.schemas import Link
from api.service.settings import ApiSettings, get_settings
from api.service.startup import check_data_dir, lock_data_dir, unlock_data_dir
from api.service.static import install_static
from api.service.store import Store

logger = logging.getLogger(__name__)

DESCRIPTION = """Walking coverage, gaps and siting for elderly-care service circles (养老服务圈).

Projects hold a study area's inputs; analyses run as jobs (OGC API Processes); layers are GeoJSON
collections (OGC API Features); errors are RFC 9457 `application/problem+json`. Writes need the
`X-API-Key` header when `CAREPLAN_API_KEY` is set. Map data © OpenStreetMap contributors (ODbL).
"""


def build_services(settings: ApiSettings) -> Services:
    """Lock the data dir, open the database (recovering interrupted jobs), store and job runner."""
    check_data_dir(settings.data_dir)
    lock_data_dir(settings.data_dir)
    store = Store(settings.data_dir)
    store.sweep_temp()
    db = Database(settings.resolved_database_url())
    db.create_all()
    db.recover_interrupted()
    plans = PlanCache(max_bytes=int(settings.plan_cache_mb * 2**20))
    runner = JobRunner(db, store, plans, workers=settings.job_workers,
                       max_queued=settings.max_queued_jobs, keep_results=settings.keep_results)
    warm_up()
    return Services(settings, db, store, runner, plans)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    provider = app.dependency_overrides.get(get_settings, get_settings)
    services = build_services(provider())
    app.state.services = services
    logger.info("careplan API serving data dir %s", services.store.root)
    try:
        yield
    finally:
        services.runner.shutdown()
        services.db.dispose()
        unlock_data_dir(services.settings.data_dir)


def create_app() -> FastAPI:
    """The careplan REST application (services are built when it starts)."""
    app = FastAPI(title="careplan", description=DESCRIPTION, version="0.1.0",
                  lifespan=_lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(TimeoutMiddleware)
    install_static(app)  # /docs, /redoc and /static: every page works without the internet
    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    for module in (health, projects, processes, jobs, collections, catchments, maps, exports,
                   finder, needs):
        app.include_router(module.router)

    @app.get("/", tags=["health"], response_model=dict[str, list[Link]])
    def get_landing() -> dict[str, list[Link]]:
        """Landing page: links to the API definition, processes and projects."""
        return {"links": [Link(href="/openapi.json", rel="service-desc"),
                          Link(href="/docs", rel="service-doc", type="text/html"),
                          Link(href="/processes", rel="processes"),
                          Link(href="/projects", rel="data"),
                          Link(href="/jobs", rel="jobs")]}

    return app


app = create_app()
