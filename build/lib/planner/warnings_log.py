"""Recoverable data problems counted in the results (and raised as DataQualityWarning)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TypedDict

from planner.errors import DataQualityWarning


class WarningEntry(TypedDict):
    """One recorded problem: its code, how many rows or items it hit, and the message."""

    code: str
    count: int
    message: str


@dataclass(slots=True)
class WarningLog:
    """Collects ``(code, count, message)`` entries; each is also issued as a DataQualityWarning."""

    entries: list[WarningEntry] = field(default_factory=list)

    def add(self, code: str, count: int, message: str) -> None:
        """Record a problem and warn about it."""
        self.entries.append({"code": code, "count": int(count), "message": message})
        warnings.warn(message, DataQualityWarning, stacklevel=3)

    def count(self, code: str) -> int:
        """Total count recorded under ``code`` (0 when absent)."""
        return sum(int(e["count"]) for e in self.entries if e["code"] == code)
