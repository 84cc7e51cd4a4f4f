"""Persistence: projects, uploads, jobs, results, scenarios (SQLAlchemy Core; SQLite, Postgres)."""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)

INTERRUPTED = "interrupted by server restart"
ACTIVE_STATES = ("accepted", "running")

metadata = MetaData()


class _NotActiveError(Exception):
    """Rolls back a job's completion: the job is no longer queued or running."""

projects = Table(
    "projects", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("place", Text),
    Column("created_at", String(40), nullable=False),
)
uploads = Table(
    "uploads", metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), index=True),
    Column("kind", String(16), nullable=False),
    Column("filename", String(300), nullable=False),
    Column("path", Text, nullable=False),
    Column("detected", String(16), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("coords", String(16), nullable=False, default="wgs84"),
    Column("owned", Integer, nullable=False, default=1),
    Column("created_at", String(40), nullable=False),
)
results = Table(
    "results", metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), index=True),
    Column("process_id", String(32), nullable=False),
    Column("cache_key", String(64), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)
jobs = Table(
    "jobs", metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), index=True),
    Column("process_id", String(32), nullable=False),
    Column("inputs", Text, nullable=False),
    Column("cache_key", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False, default=0),
    Column("message", Text, nullable=False, default=""),
    Column("result_id", String(40), ForeignKey("results.id", ondelete="SET NULL")),
    Column("created_at", String(40), nullable=False),
    Column("started_at", String(40)),
    Column("finished_at", String(40)),
    Column("worker_pid", Integer),  # the child process running the job (api.service.children)
)
scenarios = Table(
    "scenarios", metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), index=True),
    Column("name", String(200), nullable=False),
    Column("process_id", String(32), nullable=False),
    Column("inputs", Text, nullable=False),
    Column("job_id", String(40)),
    Column("created_at", String(40), nullable=False),
)


def now_iso() -> str:
    """The current UTC time as an ISO-8601 string."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def build_engine(url: str) -> Engine:
    """SQLAlchemy engine for ``url``; SQLite gets WAL mode, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Tables and the few queries the API needs; every write runs in one transaction."""

    def __init__(self, url: str) -> None:
        self.engine = build_engine(url)

    def create_all(self) -> None:
        """Create missing tables, and add the columns a newer version brought to old ones."""
        metadata.create_all(self.engine)
        found = inspect(self.engine)
        for table in metadata.sorted_tables:
            have = {c["name"] for c in found.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have and column.nullable and not column.primary_key:
                    kind = column.type.compile(dialect=self.engine.dialect)
                    with self.begin() as conn:
                        conn.exec_driver_sql(
                            f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                    logger.info("added column %s.%s", table.name, column.name)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction (commit on success, rollback on error)."""
        with self.engine.begin() as conn:
            yield conn

    def ping(self) -> bool:
        """True when the database answers ``SELECT 1``."""
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1

    def recover_interrupted(self) -> int:
        """Mark jobs left accepted or running by a previous process as failed; return the count."""
        with self.begin() as conn:
            done = conn.execute(
                jobs.update().where(jobs.c.status.in_(ACTIVE_STATES))
                .values(status="failed", message=INTERRUPTED, finished_at=now_iso())
            )
        if done.rowcount:
            logger.warning("%d job(s) marked failed: %s", done.rowcount, INTERRUPTED)
        return int(done.rowcount or 0)

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Insert one row."""
        with self.begin() as conn:
            conn.execute(table.insert().values(**row))

    def update(self, table: Table, row_id: str, **values: Any) -> None:
        """Update one row by id."""
        with self.begin() as conn:
            conn.execute(table.update().where(table.c.id == row_id).values(**values))

    def update_job(self, job_id: str, *states: str, **values: Any) -> bool:
        """Update a job only while its status is one of ``states`` (default: queued or running,
        so a dismissal is never overwritten); whether it was."""
        with self.begin() as conn:
            done = conn.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.status.in_(states or ACTIVE_STATES)).values(**values))
        return bool(done.rowcount)

    def get(self, table: Table, row_id: str) -> dict[str, Any] | None:
        """One row by id, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
        return dict(row) if row else None

    def list(self, table: Table, *, limit: int = 1000, offset: int = 0,
             **where: Any) -> list[dict[str, Any]]:
        """Rows matching ``column=value`` filters, newest first."""
        query = select(table)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        query = query.order_by(table.c.created_at.desc(), table.c.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ``list`` names the method above inside this class: annotations use ``builtins.list``.
    def uploads_of(self, project_ids: builtins.list[str]
                   ) -> dict[str, builtins.list[dict[str, Any]]]:
        """Uploads of several projects in one query, by project id (oldest first)."""
        found: dict[str, builtins.list[dict[str, Any]]] = {pid: [] for pid in project_ids}
        if not project_ids:
            return found
        query = select(uploads).where(uploads.c.project_id.in_(project_ids)).order_by(
            uploads.c.created_at)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                found[row["project_id"]].append(dict(row))
        return found

    def find_result(self, project_id: str, cache_key: str) -> dict[str, Any] | None:
        """The stored result for a cache key, or ``None``."""
        rows = self.list(results, limit=1, project_id=project_id, cache_key=cache_key)
        return rows[0] if rows else None

    def find_active_job(self, cache_key: str) -> dict[str, Any] | None:
        """A queued or running job with this cache key, or ``None``."""
        query = select(jobs).where(jobs.c.cache_key == cache_key, jobs.c.status.in_(ACTIVE_STATES))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def finish_job(self, job_id: str, result_row: dict[str, Any]) -> bool:
        """Insert the result row and mark the job successful in one transaction, unless the job
        is no longer queued or running (dismissed meanwhile): then nothing is stored (False)."""
        try:
            with self.begin() as conn:
                conn.execute(results.insert().values(**result_row))
                done = conn.execute(jobs.update().where(
                    jobs.c.id == job_id, jobs.c.status.in_(ACTIVE_STATES)).values(
                    status="successful", progress=100, result_id=result_row["id"],
                    finished_at=now_iso(), message="done"))
                if not done.rowcount:
                    raise _NotActiveError(job_id)
        except _NotActiveError:
            return False
        return True

    def delete_project(self, project_id: str) -> None:
        """Delete a project and everything that belongs to it, in one transaction."""
        with self.begin() as conn:
            for table in (scenarios, jobs, results, uploads):
                conn.execute(table.delete().where(table.c.project_id == project_id))
            conn.execute(projects.delete().where(projects.c.id == project_id))


def dumps(value: Any) -> str:
    """JSON text for a TEXT column (portable across SQLite and PostgreSQL)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
