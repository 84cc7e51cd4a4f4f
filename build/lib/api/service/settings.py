"""ApiSettings (pydantic-settings, env prefix CAREPLAN_) and the cached get_settings()."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Runtime settings of the REST service, read from ``CAREPLAN_*`` environment variables.

    Attributes
    ----------
    data_dir
        Folder holding the database, uploads, downloads and results (``CAREPLAN_DATA_DIR``).
    api_key
        When set, write endpoints need this value in the ``X-API-Key`` header.
    public_read
        When false (and ``api_key`` is set), read endpoints need the key too.
    max_upload_mb
        Largest request body accepted, in megabytes (413 above it).
    job_workers
        Analyses run at the same time.
    max_queued_jobs
        Jobs waiting or running at once; more give 429.
    request_timeout_s
        Seconds before a request that has not started its response gets 504.
    database_url
        SQLAlchemy URL (e.g. ``postgresql+psycopg://...``); default SQLite in ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="CAREPLAN_", extra="ignore")

    data_dir: Path = Path("./careplan-data")
    api_key: str | None = None
    public_read: bool = True
    max_upload_mb: float = Field(default=200.0, gt=0)
    job_workers: int = Field(default=2, ge=1, le=64)
    max_queued_jobs: int = Field(default=16, ge=1)
    request_timeout_s: float = Field(default=60.0, gt=0)
    database_url: str | None = None

    @property
    def max_upload_bytes(self) -> int:
        """Upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/careplan.sqlite``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'careplan.sqlite').resolve()}"


@lru_cache
def get_settings() -> ApiSettings:
    """Settings from the environment, read once (override in tests via dependency_overrides)."""
    return ApiSettings()
