"""Protected data of the needs view: the stored older-adult registers and the audit table.

Tables share the service's metadata, so ``Database.create_all`` makes them and deleting a
project deletes its rows. An audit row says who read which personal records when; it never
holds the records themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from api.service.db import Database, metadata
from api.service.jobs import new_id

older_registers = Table(
    "older_registers", metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), index=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
)
audit = Table(
    "audit", metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", String(40), nullable=False, index=True),
    Column("who", String(120), nullable=False),
    Column("action", String(60), nullable=False),
    Column("project_id", String(40), index=True),
    Column("detail", Text, nullable=False, default=""),
    Column("records", Integer, nullable=False, default=0),
)


def record(db: Database, who: str, action: str, project_id: str | None, detail: str,
           records: int) -> None:
    """Write one audit row (who, when, what, how many personal records)."""
    # microseconds: two reads in the same second still list newest first
    when = datetime.now(UTC).isoformat(timespec="microseconds")
    db.insert(audit, {"id": new_id(), "created_at": when, "who": who, "action": action,
                      "project_id": project_id, "detail": detail, "records": records})


def audit_rows(db: Database, limit: int, offset: int) -> list[dict[str, Any]]:
    """Audit rows, newest first (the database orders them before paging)."""
    return db.list(audit, limit=limit, offset=offset)
