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
    max_osm_xml_mb
        Largest OSM XML a compressed (``.osm.bz2``) upload may expand to, in megabytes (default
        4096: a large city's extract is 1-3 GB of XML).
    max_expanded_mb
        Largest size an XLSX (a zip) may expand to, in megabytes (default 1024).
    max_register_rows
        Most rows a facility register or units file may have (default 2,000,000).
    keep_results
        Results kept per project and process (default 1, the latest); older ones and their
        files are deleted when a newer one is stored.
    plan_cache_mb
        Memory the in-memory cache of analysed plans may use, in megabytes (LRU, default 1024).
    org_keys
        Service organisations that may read personal records of the older-adult register, as
        ``name:key`` pairs separated by commas (``CAREPLAN_ORG_KEYS``); every read is audited.
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
    max_osm_xml_mb: float = Field(default=4096.0, gt=0)
    max_expanded_mb: float = Field(default=1024.0, gt=0)
    max_register_rows: int = Field(default=2_000_000, ge=1)
    keep_results: int = Field(default=1, ge=1, le=1000)
    plan_cache_mb: float = Field(default=1024.0, gt=0)
    org_keys: str | None = None

    @property
    def org_key_map(self) -> dict[str, str]:
        """Organisation name by key, from ``org_keys`` (entries without a name are ignored)."""
        out: dict[str, str] = {}
        for entry in (self.org_keys or "").replace(";", ",").split(","):
            name, _, key = entry.strip().partition(":")
            if name.strip() and key.strip():
                out[key.strip()] = name.strip()
        return out

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
