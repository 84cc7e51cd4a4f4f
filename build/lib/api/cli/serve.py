"""serve(host, port): run the REST service with uvicorn (called by ``careplan serve``)."""

from __future__ import annotations

import logging

import uvicorn

logger = logging.getLogger(__name__)


def serve(host: str, port: int) -> None:
    """Serve ``api.service.main:app`` on ``host:port`` until interrupted (data dir: CAREPLAN_DATA_DIR)."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run("api.service.main:app", host=host, port=port, workers=1, log_level="info",
                timeout_graceful_shutdown=10)
