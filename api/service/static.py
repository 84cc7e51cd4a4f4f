"""Offline assets of the service: map scripts under ``/static/<folder>``, Swagger UI and ReDoc.

The care map page (``/projects/{id}/map``) links its Leaflet files to ``/static/...``
(:func:`maps.assets.page_html` with ``static_url="/static"``); ``/docs`` and ``/redoc`` load
Swagger UI and ReDoc from ``/static/docs`` (files of the ``fastapi-offline`` package). No page
of the service loads anything from the internet.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.service.processes import find_hook

#: URL prefix of every static file (the map pages are rendered against it).
STATIC_URL: Final = "/static"
#: Swagger UI and ReDoc bundles (the ``fastapi-offline`` package ships them).
DOCS_FOLDER: Final = "docs"
#: ReDoc's side menu shows the Redocly logo from this address; the served bundle points it at
#: the local favicon instead (the offline browser test fails if a new bundle changes it).
REDOC_LOGO_URL: Final = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def redoc_bundle(local_logo: str) -> bytes:
    """``redoc.standalone.js`` with its one remote image (the Redocly logo) made local."""
    text = (docs_folder() / "redoc.standalone.js").read_bytes()
    return text.replace(REDOC_LOGO_URL.encode(), local_logo.encode())


def docs_folder() -> Path:
    """Folder holding ``swagger-ui-bundle.js``, ``swagger-ui.css``, ``redoc.standalone.js``."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def install_static(app: FastAPI) -> None:
    """Mount the map assets and the API documentation pages, all served from the package.

    Parameters
    ----------
    app
        The application; ``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and ``/static/*`` are
        added (create it with ``docs_url=None, redoc_url=None``).
    """
    folders = find_hook("maps.assets.static_folders")
    for key, folder in (folders() if folders is not None else {}).items():
        app.mount(f"{STATIC_URL}/{key}", StaticFiles(directory=folder), name=f"static-{key}")
    app.mount(f"{STATIC_URL}/{DOCS_FOLDER}", StaticFiles(directory=docs_folder()),
              name="static-docs")
    base = f"{STATIC_URL}/{DOCS_FOLDER}"
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} – API",
            swagger_js_url=f"{base}/swagger-ui-bundle.js", swagger_css_url=f"{base}/swagger-ui.css",
            swagger_favicon_url=f"{base}/favicon.png", oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"validatorUrl": None})

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(f"{STATIC_URL}/redoc/redoc.standalone.js", include_in_schema=False)
    def redoc_js() -> Response:
        return Response(redoc_bundle(f"{base}/favicon.png"), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{app.title} – API reference",
                              redoc_js_url=f"{STATIC_URL}/redoc/redoc.standalone.js",
                              redoc_favicon_url=f"{base}/favicon.png", with_google_fonts=False)
